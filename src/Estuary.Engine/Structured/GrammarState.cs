// Where a structured-output sequence stands: the parse stacks that can still continue (each topped by a terminal) and
// whether the text so far is already a complete sentence. Immutable; transitions and token masks are cached on it.
namespace Estuary.Engine.Structured;

/// <summary>A point in the matching of text against a grammar.</summary>
internal sealed class GrammarState
{
    internal GrammarState(GrammarFrame[] stacks, bool isAccepting)
    {
        Stacks = stacks;
        IsAccepting = isAccepting;
    }

    /// <summary>The stacks (top frames, ordered by id) whose next element is a terminal.</summary>
    internal GrammarFrame[] Stacks { get; }

    /// <summary>The text so far is a complete sentence (EOS may follow).</summary>
    public bool IsAccepting { get; }

    /// <summary>More text may follow.</summary>
    public bool CanContinue => Stacks.Length > 0;

    /// <summary>The text so far is not a prefix of any sentence.</summary>
    public bool IsDead => !IsAccepting && Stacks.Length == 0;

    /// <summary>Cached transitions by next byte (null entries not computed yet).</summary>
    internal GrammarState?[]? Next { get; set; }

    /// <summary>Cached mask of the tokens allowed next (bit per token id).</summary>
    internal ulong[]? Mask { get; set; }
}
