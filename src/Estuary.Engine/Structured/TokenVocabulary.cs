// The vocabulary as a byte trie, for computing which tokens a grammar allows next: each node is a byte prefix, with the
// ids of the tokens whose text is exactly that prefix. Built once per tokenizer (from the ids sorted by bytes); immutable.
// Layout: node n's children are entries ChildStart(n)..ChildEnd(n) of (byte, child node), sorted by byte; its tokens are
// _tokenIds[_tokenStart[n].._tokenStart[n+1]].
using Estuary.Tokenization;

namespace Estuary.Engine.Structured;

internal sealed class TokenVocabulary
{
    public const int Root = 0;

    private readonly byte[]?[] _bytes;
    private readonly int[] _childStart;  // [nodes + 1]
    private readonly byte[] _childByte;  // [edges]
    private readonly int[] _childNode;   // [edges]
    private readonly int[] _tokenStart;  // [nodes + 1]
    private readonly int[] _tokenIds;    // [tokens with text]

    /// <summary>Builds the trie from each id's text bytes (null: the token has no text and is never allowed by a grammar).</summary>
    public TokenVocabulary(IReadOnlyList<byte[]?> tokenBytes)
    {
        Count = tokenBytes.Count;
        _bytes = [.. tokenBytes];
        // Ids sorted by their bytes: every trie node is then a contiguous range sharing a prefix, with the tokens that end at
        // it first. Nodes are numbered breadth-first, so each node's children are numbered (and their edges written) together.
        var ids = Enumerable.Range(0, Count).Where(id => _bytes[id] is { Length: > 0 }).ToArray();
        Array.Sort(ids, (a, b) => _bytes[a].AsSpan().SequenceCompareTo(_bytes[b]));
        var childStart = new List<int>();
        var tokenStart = new List<int>();
        var childByte = new List<byte>();
        var childNode = new List<int>();
        var tokenIds = new List<int>(ids.Length);
        var queue = new Queue<(int From, int To, int Depth)>();
        queue.Enqueue((0, ids.Length, 0));
        int nodes = 1;
        while (queue.Count > 0)
        {
            var (from, to, depth) = queue.Dequeue();
            childStart.Add(childByte.Count);
            tokenStart.Add(tokenIds.Count);
            int i = from;
            while (i < to && _bytes[ids[i]]!.Length == depth) tokenIds.Add(ids[i++]);
            while (i < to)
            {
                byte next = _bytes[ids[i]]![depth];
                int groupEnd = i + 1;
                while (groupEnd < to && _bytes[ids[groupEnd]]![depth] == next) groupEnd++;
                childByte.Add(next);
                childNode.Add(nodes++);
                queue.Enqueue((i, groupEnd, depth + 1));
                i = groupEnd;
            }
        }
        childStart.Add(childByte.Count);
        tokenStart.Add(tokenIds.Count);
        _childStart = [.. childStart];
        _tokenStart = [.. tokenStart];
        _childByte = [.. childByte];
        _childNode = [.. childNode];
        _tokenIds = [.. tokenIds];
        NodeCount = nodes;
    }

    /// <summary>The trie of <paramref name="tokenizer"/>'s pieces as they appear in text.</summary>
    public static TokenVocabulary FromTokenizer(TextTokenizer tokenizer, int vocabSize)
    {
        var bytes = new byte[]?[vocabSize];
        for (int id = 0; id < Math.Min(vocabSize, tokenizer.VocabSize); id++) bytes[id] = tokenizer.TokenBytes(id);
        return new TokenVocabulary(bytes);
    }

    /// <summary>Number of token ids (the mask's length in bits).</summary>
    public int Count { get; }

    public int NodeCount { get; }

    /// <summary>The text bytes of <paramref name="id"/>, or null when it has none.</summary>
    public byte[]? Bytes(int id) => (uint)id < (uint)_bytes.Length ? _bytes[id] : null;

    public int ChildStart(int node) => _childStart[node];

    public int ChildEnd(int node) => _childStart[node + 1];

    public bool HasChildren(int node) => _childStart[node + 1] > _childStart[node];

    public byte ChildByte(int edge) => _childByte[edge];

    public int ChildNode(int edge) => _childNode[edge];

    public ReadOnlySpan<int> TokensAt(int node) => _tokenIds.AsSpan(_tokenStart[node], _tokenStart[node + 1] - _tokenStart[node]);
}
