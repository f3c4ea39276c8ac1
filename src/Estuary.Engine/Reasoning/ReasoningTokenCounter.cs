// Counts the tokens of a reply's reasoning as they are generated: those up to and including the first closing tag.
// Invariant: a reply that starts past its reasoning (no closing id given) counts none.
namespace Estuary.Engine.Reasoning;

/// <summary>Counts a reply's reasoning tokens: those up to and including the first closing tag (all of them if it never came).</summary>
public sealed class ReasoningTokenCounter(int? closeId)
{
    private bool _closed = closeId is null;

    /// <summary>Reasoning tokens so far.</summary>
    public int Count { get; private set; }

    /// <summary>Counts the next generated <paramref name="tokenIds"/>.</summary>
    public void Add(IReadOnlyList<int> tokenIds)
    {
        foreach (var id in tokenIds)
        {
            if (_closed) return;
            Count++;
            _closed = id == closeId;
        }
    }
}
