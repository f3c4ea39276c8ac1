// Runs a byte-level grammar as a set of parse stacks (a pushdown automaton without lookahead, as llama.cpp's grammar
// sampler does), with each distinct stack set interned as a GrammarState so transitions and token masks are computed once.
// A stack ending in a completed alternative pops at once, so right recursion (x*, strings, arrays) runs in constant depth;
// nullable loops are cut by visiting each pending stack once per closure.
// The token mask walks the vocabulary's byte trie: a subtree is skipped as soon as its prefix is rejected.
// Thread-safety: every public member takes the automaton's lock, so sequences on any thread may share one automaton.
// Limits (stack depth, stacks per state) refuse a grammar at its start and make a byte unavailable later, never fail a step.
namespace Estuary.Engine.Structured;

internal sealed class GrammarAutomaton
{
    /// <summary>Deepest parse stack allowed (only a left-recursive or absurdly nested grammar gets there).</summary>
    public const int MaxStackDepth = 4096;
    /// <summary>Most parse stacks one state may hold (an extremely ambiguous grammar).</summary>
    public const int MaxStacksPerState = 4096;
    // Memory bounds per automaton: states (each with up to 2 KB of cached transitions) and token masks (8 MB).
    private const int MaxInternedStates = 16_384;
    private const long MaxCachedMaskWords = 1L << 20;

    private readonly Grammar _grammar;
    private readonly TokenVocabulary? _vocabulary;
    private readonly Lock _gate = new();
    private readonly Dictionary<(int Position, int ParentId), GrammarFrame> _frames = [];
    private readonly Dictionary<StateKey, GrammarState> _states = [];
    private readonly GrammarState _dead = new([], false);
    private int _nextFrameId;
    private long _cachedMaskWords;

    // Scratch for closures (used under the lock).
    private readonly List<GrammarFrame> _closureTops = [];
    private readonly HashSet<GrammarFrame> _closureVisited = new(ReferenceEqualityComparer.Instance);
    private readonly Stack<GrammarFrame?> _pending = new();

    public GrammarAutomaton(Grammar grammar, TokenVocabulary? vocabulary = null)
    {
        _grammar = grammar;
        _vocabulary = vocabulary;
        lock (_gate)
        {
            try
            {
                BeginClosure();
                bool accepting = false;
                foreach (int start in grammar.RuleAlternatives[grammar.StartRule]) accepting |= Close(Make(start, null));
                Initial = EndClosure(accepting);
            }
            catch (LimitExceededException e)
            {
                throw new GrammarException(e.Message);
            }
        }
    }

    /// <summary>The state before any text.</summary>
    public GrammarState Initial { get; }

    /// <summary>The state after <paramref name="value"/> (a dead state if the grammar cannot continue with it).</summary>
    public GrammarState Step(GrammarState state, byte value)
    {
        lock (_gate) return StepLocked(state, value);
    }

    /// <summary>The state after all of <paramref name="bytes"/>.</summary>
    public GrammarState Step(GrammarState state, ReadOnlySpan<byte> bytes)
    {
        lock (_gate)
        {
            foreach (var b in bytes)
            {
                if (state.IsDead || !state.CanContinue) return _dead;
                state = StepLocked(state, b);
            }
            return state;
        }
    }

    /// <summary>Whether <paramref name="text"/> (as UTF-8) is a complete sentence of the grammar.</summary>
    public bool Accepts(string text) => Step(Initial, System.Text.Encoding.UTF8.GetBytes(text)).IsAccepting;

    /// <summary>Whether <paramref name="text"/> (as UTF-8) is the start of some sentence.</summary>
    public bool AcceptsPrefix(string text) => !Step(Initial, System.Text.Encoding.UTF8.GetBytes(text)).IsDead;

    /// <summary>The state after token <paramref name="tokenId"/>'s bytes (dead for tokens without text).</summary>
    public GrammarState Advance(GrammarState state, int tokenId)
    {
        var bytes = RequireVocabulary().Bytes(tokenId);
        return bytes is null ? _dead : Step(state, bytes);
    }

    /// <summary>
    /// One bit per token id (bit id % 64 of word id / 64): set when the token's bytes keep the text a prefix of a sentence.
    /// End-of-sequence tokens are not included (they are allowed when <see cref="GrammarState.IsAccepting"/>). Cached per state;
    /// the caller must not modify it.
    /// </summary>
    public ulong[] AllowedTokens(GrammarState state)
    {
        var vocabulary = RequireVocabulary();
        lock (_gate)
        {
            if (state.Mask is { } cached) return cached;
            var mask = new ulong[(vocabulary.Count + 63) / 64];
            if (state.CanContinue) Walk(vocabulary, state, mask);
            if (_cachedMaskWords + mask.Length <= MaxCachedMaskWords)
            {
                state.Mask = mask;
                _cachedMaskWords += mask.Length;
            }
            return mask;
        }
    }

    private TokenVocabulary RequireVocabulary() =>
        _vocabulary ?? throw new InvalidOperationException("this automaton was built without a token vocabulary");

    // Depth-first over the byte trie; a node's tokens are allowed when the state after its prefix is alive.
    private void Walk(TokenVocabulary vocabulary, GrammarState state, ulong[] mask)
    {
        var stack = new Stack<(int Node, GrammarState State)>();
        stack.Push((TokenVocabulary.Root, state));
        while (stack.Count > 0)
        {
            var (node, at) = stack.Pop();
            int end = vocabulary.ChildEnd(node);
            for (int c = vocabulary.ChildStart(node); c < end; c++)
            {
                var next = StepLocked(at, vocabulary.ChildByte(c));
                if (next.IsDead) continue;
                int child = vocabulary.ChildNode(c);
                foreach (int id in vocabulary.TokensAt(child)) mask[id >> 6] |= 1UL << (id & 63);
                if (next.CanContinue && vocabulary.HasChildren(child)) stack.Push((child, next));
            }
        }
    }

    private GrammarState StepLocked(GrammarState state, byte value)
    {
        if (state.Next?[value] is { } known) return known;
        GrammarState result;
        if (!state.CanContinue) result = _dead;
        else
        {
            try
            {
                BeginClosure();
                bool accepting = false;
                foreach (var top in state.Stacks)
                {
                    if (_grammar.Terminals[~_grammar.Elements[top.Position]].Contains(value))
                        accepting |= Close(Make(top.Position + 1, top.Parent));
                }
                result = EndClosure(accepting);
            }
            catch (LimitExceededException)
            {
                // Past the depth or ambiguity limits the byte is treated as not allowed: generation stays inside the
                // grammar, on the paths the limits leave, instead of failing the engine step.
                result = _dead;
            }
        }
        (state.Next ??= new GrammarState?[256])[value] = result;
        return result;
    }

    private void BeginClosure()
    {
        _closureTops.Clear();
        _closureVisited.Clear();
    }

    // Expands a stack until every resulting stack is topped by a terminal; returns whether some stack emptied (accept).
    private bool Close(GrammarFrame? start)
    {
        bool accepting = false;
        _pending.Clear();
        _pending.Push(start);
        while (_pending.Count > 0)
        {
            var frame = _pending.Pop();
            if (frame is null)
            {
                accepting = true;
                continue;
            }
            if (!_closureVisited.Add(frame)) continue;
            int element = _grammar.Elements[frame.Position];
            if (element < 0)
            {
                _closureTops.Add(frame);
                continue;
            }
            var continuation = Make(frame.Position + 1, frame.Parent);
            foreach (int alternative in _grammar.RuleAlternatives[element]) _pending.Push(Make(alternative, continuation));
        }
        return accepting;
    }

    private GrammarState EndClosure(bool accepting)
    {
        if (_closureTops.Count == 0) return accepting ? Intern([], true) : _dead;
        if (_closureTops.Count > MaxStacksPerState)
            throw new LimitExceededException($"the structured-output grammar is too ambiguous here ({_closureTops.Count} parse stacks at once)");
        _closureTops.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        return Intern([.. _closureTops], accepting);
    }

    // The stack "match Elements[position] next, then parent", with completed alternatives popped (never a frame at End).
    private GrammarFrame? Make(int position, GrammarFrame? parent)
    {
        if (_grammar.Elements[position] == Grammar.End) return parent;
        var key = (position, parent?.Id ?? -1);
        if (_frames.TryGetValue(key, out var frame)) return frame;
        if (parent is { Depth: >= MaxStackDepth })
            throw new LimitExceededException($"the structured-output grammar nests deeper than {MaxStackDepth} (left recursion?)");
        frame = new GrammarFrame(position, parent, _nextFrameId++);
        _frames.Add(key, frame);
        return frame;
    }

    private GrammarState Intern(GrammarFrame[] stacks, bool accepting)
    {
        var key = new StateKey(stacks, accepting);
        if (_states.TryGetValue(key, out var state)) return state;
        if (_states.Count >= MaxInternedStates)
        {
            // Start the caches afresh: old states stay valid (they hold their own frames), but their cached transitions
            // and masks go, so nothing keeps the old graph alive (sequences hold only their current state).
            foreach (var old in _states.Values)
            {
                old.Next = null;
                old.Mask = null;
            }
            Initial.Next = null;
            Initial.Mask = null;
            _cachedMaskWords = 0;
            _states.Clear();
            _frames.Clear();
        }
        state = new GrammarState(stacks, accepting);
        _states.Add(key, state);
        return state;
    }

    private sealed class LimitExceededException(string message) : Exception(message);

    private readonly struct StateKey(GrammarFrame[] stacks, bool accepting) : IEquatable<StateKey>
    {
        private readonly GrammarFrame[] _stacks = stacks;
        private readonly bool _accepting = accepting;

        public bool Equals(StateKey other)
        {
            if (_accepting != other._accepting || _stacks.Length != other._stacks.Length) return false;
            for (int i = 0; i < _stacks.Length; i++)
                if (!ReferenceEquals(_stacks[i], other._stacks[i])) return false;
            return true;
        }

        public override bool Equals(object? obj) => obj is StateKey other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.Add(_accepting);
            foreach (var f in _stacks) hash.Add(f.Id);
            return hash.ToHashCode();
        }
    }
}
