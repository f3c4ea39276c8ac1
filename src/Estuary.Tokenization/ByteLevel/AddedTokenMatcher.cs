// Finds added tokens written in text as Hugging Face tokenizers does (an Aho-Corasick search, leftmost-longest): at each
// position the longest token text that starts there. One matcher serves the raw text, another the normalized text.
// Invariant: immutable; Match never returns an empty text.
namespace Estuary.Tokenization;

internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, (string Text, AddedToken Token)[]> _byFirstChar;

    /// <param name="tokens">Each token with the text it is matched by (its content, or its content normalized).</param>
    public AddedTokenMatcher(IEnumerable<(string Text, AddedToken Token)> tokens)
    {
        _byFirstChar = tokens
            .Where(t => t.Text.Length > 0)
            .GroupBy(t => t.Text[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Text.Length).ToArray());
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>The longest token whose text starts at <paramref name="i"/>, with the length of that text, if any.</summary>
    public (AddedToken Token, int Length)? Match(string text, int i)
    {
        if (!_byFirstChar.TryGetValue(text[i], out var candidates)) return null;
        foreach (var (tokenText, token) in candidates) // longest first
            if (string.CompareOrdinal(text, i, tokenText, 0, tokenText.Length) == 0) return (token, tokenText.Length);
        return null;
    }
}
