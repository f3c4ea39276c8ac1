// Builds a context-free grammar over bytes: rules with alternatives, each a sequence of rule references and byte-set
// terminals. The combinators (Literal, CodePoints, Sequence, Choice, Optional, ZeroOrMore, Repeat) add helper rules and
// return a symbol for them; repetition is right-recursive (R → x R | ε), which the automaton runs in constant stack depth.
// Invariant: never left-recursive when only the combinators are used.
using System.Text;

namespace Estuary.Engine.Structured;

internal sealed class GrammarBuilder
{
    /// <summary>Most symbols a grammar may hold; bigger specifications (huge repeat counts) are refused.</summary>
    public const int MaxSymbols = 2_000_000;

    private readonly List<string> _ruleNames = [];
    private readonly List<List<GrammarSymbol[]>> _alternatives = [];
    private readonly List<ByteSet> _terminals = [];
    private readonly Dictionary<ByteSet, int> _terminalIds = [];
    private readonly Dictionary<string, GrammarSymbol> _literals = new(StringComparer.Ordinal);
    private GrammarSymbol? _empty;
    private int _symbolCount;

    /// <summary>Declares a rule with no alternatives yet (add them later, so rules may refer to themselves or each other).</summary>
    public int DeclareRule(string name)
    {
        _ruleNames.Add(name);
        _alternatives.Add([]);
        return _ruleNames.Count - 1;
    }

    /// <summary>Adds the alternative <paramref name="symbols"/> (empty = ε) to rule <paramref name="rule"/>.</summary>
    public void AddAlternative(int rule, params ReadOnlySpan<GrammarSymbol> symbols)
    {
        _symbolCount += symbols.Length + 1;
        if (_symbolCount > MaxSymbols)
            throw new GrammarException($"the structured-output grammar is too large (over {MaxSymbols} symbols); use smaller repetition counts");
        _alternatives[rule].Add(symbols.ToArray());
    }

    /// <summary>A reference to rule <paramref name="rule"/>.</summary>
    public static GrammarSymbol Ref(int rule) => GrammarSymbol.Rule(rule);

    /// <summary>One byte from <paramref name="set"/>.</summary>
    public GrammarSymbol Bytes(ByteSet set)
    {
        if (set.IsEmpty) throw new ArgumentException("a terminal must match at least one byte", nameof(set));
        if (!_terminalIds.TryGetValue(set, out int index))
        {
            index = _terminals.Count;
            _terminals.Add(set);
            _terminalIds.Add(set, index);
        }
        return GrammarSymbol.Terminal(index);
    }

    /// <summary>The empty string.</summary>
    public GrammarSymbol Empty()
    {
        if (_empty is { } e) return e;
        int rule = DeclareRule("empty");
        AddAlternative(rule);
        _empty = Ref(rule);
        return _empty.Value;
    }

    /// <summary>Exactly the UTF-8 bytes of <paramref name="text"/>.</summary>
    public GrammarSymbol Literal(string text)
    {
        if (_literals.TryGetValue(text, out var known)) return known;
        var bytes = Encoding.UTF8.GetBytes(text);
        GrammarSymbol symbol;
        if (bytes.Length == 1) symbol = Bytes(ByteSet.Of(bytes[0]));
        else
        {
            var symbols = new GrammarSymbol[bytes.Length];
            for (int i = 0; i < bytes.Length; i++) symbols[i] = Bytes(ByteSet.Of(bytes[i]));
            int rule = DeclareRule($"literal {text}");
            AddAlternative(rule, symbols);
            symbol = Ref(rule);
        }
        _literals[text] = symbol;
        return symbol;
    }

    /// <summary>
    /// Exactly one of <paramref name="texts"/> (UTF-8), built as a compressed byte trie: a shared prefix is matched once, so
    /// even thousands of alternatives keep one parse stack per distinct next byte (a plain Choice of literals keeps one per
    /// text), and a run of bytes no other text branches from is one sequence, not a rule per byte (a text of a million
    /// characters costs what a regex literal of it does).
    /// </summary>
    public GrammarSymbol OneOfLiterals(IEnumerable<string> texts)
    {
        // Distinct texts in byte order: those sharing a prefix sit together, and a text sorts before its extensions.
        var sorted = texts.Select(Encoding.UTF8.GetBytes).ToArray();
        Array.Sort(sorted, CompareBytes);
        sorted = sorted.Where((t, i) => i == 0 || CompareBytes(sorted[i - 1], t) != 0).ToArray();
        if (sorted.Length == 0 || sorted is [{ Length: 0 }]) return Empty();

        // A node is the texts [lo, hi) past their shared first `depth` bytes; its rule has ε when one of them ends there, and
        // per next byte one alternative: the bytes up to where that group next branches or a text ends, then the group's
        // node (left out when the group is that one text). Rules are declared when referenced and filled from a work stack.
        int top = DeclareRule("literal set");
        var pending = new Stack<(int Rule, int Lo, int Hi, int Depth)>();
        pending.Push((top, 0, sorted.Length, 0));
        while (pending.Count > 0)
        {
            var (rule, lo, hi, depth) = pending.Pop();
            if (sorted[lo].Length == depth)
            {
                AddAlternative(rule);
                lo++;
            }
            for (int g = lo; g < hi;)
            {
                byte first = sorted[g][depth];
                int gEnd = g + 1;
                while (gEnd < hi && sorted[gEnd][depth] == first) gEnd++;
                // The group's common prefix: that of its first and last text, the group being sorted.
                int shared = depth + 1;
                var (a, b) = (sorted[g], sorted[gEnd - 1]);
                while (shared < a.Length && shared < b.Length && a[shared] == b[shared]) shared++;
                bool single = gEnd - g == 1 && a.Length == shared;
                var symbols = new GrammarSymbol[shared - depth + (single ? 0 : 1)];
                for (int i = depth; i < shared; i++) symbols[i - depth] = Bytes(ByteSet.Of(a[i]));
                if (!single)
                {
                    int child = DeclareRule("literal set");
                    symbols[^1] = Ref(child);
                    pending.Push((child, g, gEnd, shared));
                }
                AddAlternative(rule, symbols);
                g = gEnd;
            }
        }
        return Ref(top);
    }

    private static int CompareBytes(byte[] x, byte[] y) => x.AsSpan().SequenceCompareTo(y);

    /// <summary>One character whose code point is in one of <paramref name="ranges"/> (inclusive), as UTF-8.</summary>
    public GrammarSymbol CodePoints(IEnumerable<(int Lo, int Hi)> ranges)
    {
        // Single-byte ranges merge into one terminal; longer sequences become one alternative each.
        var sequences = new List<(byte Lo, byte Hi)[]>();
        foreach (var (lo, hi) in ranges) sequences.AddRange(Utf8Sequences.Of(lo, hi));
        if (sequences.Count == 0) throw new GrammarException("a character class matches no character");
        var singleBytes = ByteSet.Empty;
        var longer = new List<(byte Lo, byte Hi)[]>();
        foreach (var s in sequences)
        {
            if (s.Length == 1) singleBytes = singleBytes.Union(ByteSet.Range(s[0].Lo, s[0].Hi));
            else longer.Add(s);
        }
        if (longer.Count == 0) return Bytes(singleBytes);
        int rule = DeclareRule("characters");
        if (!singleBytes.IsEmpty) AddAlternative(rule, Bytes(singleBytes));
        foreach (var s in longer)
        {
            var symbols = new GrammarSymbol[s.Length];
            for (int i = 0; i < s.Length; i++) symbols[i] = Bytes(ByteSet.Range(s[i].Lo, s[i].Hi));
            AddAlternative(rule, symbols);
        }
        return Ref(rule);
    }

    /// <summary>Any character except those in <paramref name="excluded"/> (inclusive ranges), as UTF-8.</summary>
    public GrammarSymbol CodePointsExcept(IEnumerable<(int Lo, int Hi)> excluded) => CodePoints(Complement(excluded));

    /// <summary><paramref name="ranges"/> sorted, with overlapping or adjacent ranges merged.</summary>
    public static List<(int Lo, int Hi)> MergeRanges(IEnumerable<(int Lo, int Hi)> ranges)
    {
        var result = new List<(int Lo, int Hi)>();
        foreach (var (lo, hi) in ranges.OrderBy(r => r.Lo))
        {
            if (result.Count > 0 && lo <= result[^1].Hi + 1) result[^1] = (result[^1].Lo, Math.Max(result[^1].Hi, hi));
            else result.Add((lo, hi));
        }
        return result;
    }

    /// <summary>The inclusive code-point ranges not covered by <paramref name="ranges"/>, in order.</summary>
    public static List<(int Lo, int Hi)> Complement(IEnumerable<(int Lo, int Hi)> ranges)
    {
        var sorted = ranges.OrderBy(r => r.Lo).ToList();
        var result = new List<(int, int)>();
        int next = 0;
        foreach (var (lo, hi) in sorted)
        {
            if (lo > next) result.Add((next, lo - 1));
            next = Math.Max(next, hi + 1);
        }
        if (next <= 0x10FFFF) result.Add((next, 0x10FFFF));
        return result;
    }

    /// <summary>The symbols one after another.</summary>
    public GrammarSymbol Sequence(params ReadOnlySpan<GrammarSymbol> symbols)
    {
        if (symbols.Length == 1) return symbols[0];
        int rule = DeclareRule("sequence");
        AddAlternative(rule, symbols);
        return Ref(rule);
    }

    /// <summary>Any one of the symbols.</summary>
    public GrammarSymbol Choice(params ReadOnlySpan<GrammarSymbol> options)
    {
        if (options.Length == 1) return options[0];
        int rule = DeclareRule("choice");
        foreach (var option in options) AddAlternative(rule, option);
        return Ref(rule);
    }

    /// <summary><paramref name="symbol"/> or nothing.</summary>
    public GrammarSymbol Optional(GrammarSymbol symbol)
    {
        int rule = DeclareRule("optional");
        AddAlternative(rule, symbol);
        AddAlternative(rule);
        return Ref(rule);
    }

    /// <summary><paramref name="symbol"/> any number of times.</summary>
    public GrammarSymbol ZeroOrMore(GrammarSymbol symbol)
    {
        int rule = DeclareRule("zero-or-more");
        AddAlternative(rule, symbol, Ref(rule));
        AddAlternative(rule);
        return Ref(rule);
    }

    /// <summary><paramref name="symbol"/> at least once.</summary>
    public GrammarSymbol OneOrMore(GrammarSymbol symbol) => Sequence(symbol, ZeroOrMore(symbol));

    /// <summary><paramref name="symbol"/> between <paramref name="min"/> and <paramref name="max"/> times (null = no upper bound).</summary>
    public GrammarSymbol Repeat(GrammarSymbol symbol, int min, int? max)
    {
        if (min < 0 || max < min) throw new GrammarException($"invalid repetition {{{min},{max}}}");
        // Each required copy costs one symbol; each optional one an Optional and a Sequence rule (about 6 symbols).
        long cost = min + 6L * ((max ?? min) - min) + 8;
        if (_symbolCount + cost > MaxSymbols)
            throw new GrammarException($"the repetition count {max ?? min} is too large for a structured-output grammar");
        var parts = new List<GrammarSymbol>();
        for (int i = 0; i < min; i++) parts.Add(symbol);
        if (max is null) parts.Add(ZeroOrMore(symbol));
        else if (max > min)
        {
            // up to k more: T_k → symbol T_{k-1} | ε, built from the inside out.
            GrammarSymbol tail = Optional(symbol);
            for (int k = 2; k <= max - min; k++) tail = Optional(Sequence(symbol, tail));
            parts.Add(tail);
        }
        return parts.Count == 0 ? Empty() : Sequence([.. parts]);
    }

    /// <summary>The finished grammar whose sentences are those of <paramref name="root"/>.</summary>
    public Grammar Build(GrammarSymbol root)
    {
        int start = root.IsTerminal ? -1 : root.Value;
        if (start < 0)
        {
            start = DeclareRule("root");
            AddAlternative(start, root);
        }
        for (int r = 0; r < _alternatives.Count; r++)
            if (_alternatives[r].Count == 0) throw new InvalidOperationException($"grammar rule '{_ruleNames[r]}' has no alternatives");
        return new Grammar(_alternatives, [.. _terminals], start);
    }
}
