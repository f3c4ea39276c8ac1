// JSON object keys that are none of a given set of names, for the extra keys of additionalProperties: a key equal to a
// listed property would override it when the object is parsed. Extra keys are written raw (no escapes, so no character
// other than '"', '\' and controls, each with exactly one spelling), which makes "not one of these names" a property of
// the bytes: the key walks the names' byte trie and is free once it leaves it. Invariant: the symbol matches exactly the
// quoted raw strings whose content is not in the set (stricter than JSON allows for keys, never looser).
namespace Estuary.Engine.Structured;

internal static class JsonKeyExclusion
{
    // Characters an extra key may hold: everything but '"', '\' and U+0000–U+001F.
    private static readonly (int Lo, int Hi)[] RawCharacters = [(0x20, 0x21), (0x23, 0x5B), (0x5D, 0x10FFFF)];

    /// <summary>A quoted raw key whose content is not one of <paramref name="names"/>.</summary>
    public static GrammarSymbol Build(GrammarBuilder builder, IEnumerable<string> names)
    {
        var quote = builder.Literal("\"");
        var free = builder.Sequence(builder.ZeroOrMore(builder.CodePoints(RawCharacters)), quote);
        // Names that cannot be written raw can never be matched by a raw key.
        var root = new Node();
        foreach (var name in names)
        {
            if (!name.EnumerateRunes().All(r => IsRaw(r.Value)) || name.Any(char.IsSurrogate) && !IsWellFormed(name)) continue;
            var node = root;
            foreach (var b in System.Text.Encoding.UTF8.GetBytes(name))
                node = node.Children.TryGetValue(b, out var child) ? child : node.Children[b] = new Node();
            node.IsName = true;
        }
        var sequences = RawCharacters.SelectMany(r => Utf8Sequences.Of(r.Lo, r.Hi)).ToList();
        return builder.Sequence(quote, Rule(builder, root, [], sequences, free, quote));
    }

    private static bool IsRaw(int codePoint) => codePoint >= 0x20 && codePoint != '"' && codePoint != '\\';

    private static bool IsWellFormed(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
            else if (char.IsSurrogate(s[i])) return false;
        }
        return true;
    }

    // The key so far equals a prefix of some name, ending with `partial`, the bytes of a character not yet complete.
    private static GrammarSymbol Rule(GrammarBuilder builder, Node node, byte[] partial, List<(byte Lo, byte Hi)[]> sequences,
        GrammarSymbol free, GrammarSymbol quote)
    {
        int rule = builder.DeclareRule("key not a listed name");
        if (partial.Length == 0 && !node.IsName) builder.AddAlternative(rule, quote);
        foreach (var (b, child) in node.Children)
        {
            byte[] next = [.. partial, b];
            bool complete = next.Length == CharacterLength(next[0]);
            builder.AddAlternative(rule, builder.Bytes(ByteSet.Of(b)), Rule(builder, child, complete ? [] : next, sequences, free, quote));
        }
        // Leaving the trie: any other byte that continues a raw character, the rest of that character, then anything.
        var taken = node.Children.Keys.Aggregate(ByteSet.Empty, (set, b) => set.Union(ByteSet.Of(b)));
        foreach (var sequence in sequences)
        {
            if (sequence.Length <= partial.Length) continue;
            bool matches = true;
            for (int i = 0; i < partial.Length && matches; i++) matches = partial[i] >= sequence[i].Lo && partial[i] <= sequence[i].Hi;
            if (!matches) continue;
            var first = ByteSet.Range(sequence[partial.Length].Lo, sequence[partial.Length].Hi).Except(taken);
            if (first.IsEmpty) continue;
            var symbols = new List<GrammarSymbol> { builder.Bytes(first) };
            for (int i = partial.Length + 1; i < sequence.Length; i++) symbols.Add(builder.Bytes(ByteSet.Range(sequence[i].Lo, sequence[i].Hi)));
            symbols.Add(free);
            builder.AddAlternative(rule, [.. symbols]);
        }
        return GrammarBuilder.Ref(rule);
    }

    private static int CharacterLength(byte lead) => lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;

    private sealed class Node
    {
        public SortedDictionary<byte, Node> Children { get; } = [];
        public bool IsName { get; set; }
    }
}
