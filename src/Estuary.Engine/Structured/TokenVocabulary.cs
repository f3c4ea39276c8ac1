// The vocabulary as a byte trie, for computing which tokens a grammar allows next: each node is a byte prefix, with the
// ids of the tokens whose text is exactly that prefix. Built once per tokenizer; immutable.
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
        // A temporary pointer trie, then flattened breadth-first.
        var root = new BuildNode();
        for (int id = 0; id < tokenBytes.Count; id++)
        {
            var bytes = tokenBytes[id];
            if (bytes is null || bytes.Length == 0) continue;
            var node = root;
            foreach (var b in bytes)
            {
                node.Children ??= [];
                if (!node.Children.TryGetValue(b, out var child)) node.Children[b] = child = new BuildNode();
                node = child;
            }
            (node.Tokens ??= []).Add(id);
        }
        var order = new List<BuildNode> { root };
        for (int i = 0; i < order.Count; i++)
        {
            order[i].Index = i;
            if (order[i].Children is { } children) order.AddRange(children.OrderBy(c => c.Key).Select(c => c.Value));
        }
        _childStart = new int[order.Count + 1];
        _tokenStart = new int[order.Count + 1];
        var childByte = new List<byte>();
        var childNode = new List<int>();
        var tokenIds = new List<int>();
        for (int n = 0; n < order.Count; n++)
        {
            _childStart[n] = childByte.Count;
            _tokenStart[n] = tokenIds.Count;
            if (order[n].Children is { } children)
            {
                foreach (var (b, child) in children.OrderBy(c => c.Key))
                {
                    childByte.Add(b);
                    childNode.Add(child.Index);
                }
            }
            if (order[n].Tokens is { } tokens) tokenIds.AddRange(tokens);
        }
        _childStart[order.Count] = childByte.Count;
        _tokenStart[order.Count] = tokenIds.Count;
        _childByte = [.. childByte];
        _childNode = [.. childNode];
        _tokenIds = [.. tokenIds];
        NodeCount = order.Count;
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

    private sealed class BuildNode
    {
        public Dictionary<byte, BuildNode>? Children;
        public List<int>? Tokens;
        public int Index;
    }
}
