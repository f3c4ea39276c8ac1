// Splits one chat reply, piece by piece as it is generated, into its reasoning and its content: a reply that starts inside
// the reasoning is reasoning up to the first "</think>" (a "<think>" at its very start is dropped) and content after it;
// one that starts past it is all content. A tail that could still grow into the awaited tag is held back until it can not.
// Invariant: for any split of a reply into pieces, the reasoning and the content given out add up to those of the whole
// reply given at once (what a non-streamed reply returns).
using System.Text;

namespace Estuary.Engine.Reasoning;

public sealed class ReasoningSplitter(bool startsInReasoning)
{
    private readonly StringBuilder _held = new();
    private bool _inReasoning = startsInReasoning;
    private bool _atStart = startsInReasoning;

    /// <summary>Whether the reply had a reasoning part (it started inside one).</summary>
    public bool HasReasoning { get; } = startsInReasoning;

    /// <summary>Whether the reasoning has ended (always, for a reply that started past it).</summary>
    public bool ReasoningEnded => !_inReasoning;

    /// <summary>
    /// The reasoning and content that <paramref name="text"/>, the next piece of the reply, lets out; at the end of the reply
    /// (<paramref name="last"/>) held text goes out as what it is.
    /// </summary>
    public (string Reasoning, string Content) Add(string text, bool last)
    {
        if (!_inReasoning) return ("", text);
        _held.Append(text);
        var held = _held.ToString();
        if (_atStart)
        {
            if (held.StartsWith(ReasoningFormat.Open, StringComparison.Ordinal))
            {
                held = held[ReasoningFormat.Open.Length..];
                _atStart = false;
            }
            else if (!last && ReasoningFormat.Open.StartsWith(held, StringComparison.Ordinal)) return ("", ""); // may still become <think>
            else _atStart = false;
        }
        _held.Clear();
        int close = held.IndexOf(ReasoningFormat.Close, StringComparison.Ordinal);
        if (close >= 0)
        {
            _inReasoning = false;
            return (held[..close], held[(close + ReasoningFormat.Close.Length)..]);
        }
        int keep = last ? 0 : CloseTagPrefixLength(held);
        _held.Append(held, held.Length - keep, keep);
        return (held[..^keep], "");
    }

    // The length of the longest end of text that is a beginning of "</think>".
    private static int CloseTagPrefixLength(string text)
    {
        for (int n = Math.Min(text.Length, ReasoningFormat.Close.Length - 1); n > 0; n--)
            if (string.CompareOrdinal(text, text.Length - n, ReasoningFormat.Close, 0, n) == 0) return n;
        return 0;
    }
}
