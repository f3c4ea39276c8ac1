// The parsed form of a structured-output regular expression: characters, sequences, alternatives and repetitions only
// (anchors, groups and laziness are gone by then). Invariant: every CharactersNode matches at least one encodable code point.
namespace Estuary.Engine.Structured;

/// <summary>A node of a parsed regular expression.</summary>
internal abstract record RegexNode;

/// <summary>The empty string.</summary>
internal sealed record EmptyRegexNode : RegexNode
{
    /// <summary>The one instance.</summary>
    public static readonly EmptyRegexNode Instance = new();
}

/// <summary>One code point from <see cref="Ranges"/> (inclusive, sorted, disjoint, non-adjacent).</summary>
internal sealed record CharactersRegexNode(IReadOnlyList<(int Lo, int Hi)> Ranges) : RegexNode
{
    /// <summary>The code point when the set holds exactly one, else -1.</summary>
    public int Single => Ranges.Count == 1 && Ranges[0].Lo == Ranges[0].Hi ? Ranges[0].Lo : -1;
}

/// <summary>The items one after another.</summary>
internal sealed record SequenceRegexNode(IReadOnlyList<RegexNode> Items) : RegexNode;

/// <summary>Any one of the options.</summary>
internal sealed record ChoiceRegexNode(IReadOnlyList<RegexNode> Options) : RegexNode;

/// <summary><see cref="Item"/> between <see cref="Min"/> and <see cref="Max"/> times (null = unbounded); <see cref="Position"/> is the quantifier's.</summary>
internal sealed record RepeatRegexNode(RegexNode Item, int Min, int? Max, int Position) : RegexNode;
