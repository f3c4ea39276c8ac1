// A finished grammar in flat form for the automaton: every alternative is a run of elements in one array, ended by End.
// Element ≥ 0: a rule id; element < 0 and ≠ End: terminal ~element; End: the alternative is complete.
namespace Estuary.Engine.Structured;

/// <summary>An immutable byte-level context-free grammar (thread-safe to share).</summary>
internal sealed class Grammar
{
    public const int End = int.MinValue;

    public Grammar(IReadOnlyList<List<GrammarSymbol[]>> rules, ByteSet[] terminals, int startRule)
    {
        var elements = new List<int>();
        RuleAlternatives = new int[rules.Count][];
        for (int r = 0; r < rules.Count; r++)
        {
            var starts = new int[rules[r].Count];
            for (int a = 0; a < starts.Length; a++)
            {
                starts[a] = elements.Count;
                foreach (var s in rules[r][a]) elements.Add(s.Value);
                elements.Add(End);
            }
            RuleAlternatives[r] = starts;
        }
        Elements = [.. elements];
        Terminals = terminals;
        StartRule = startRule;
    }

    /// <summary>All alternatives' elements, each run ended by <see cref="End"/>.</summary>
    public int[] Elements { get; }

    /// <summary>For each rule, the index in <see cref="Elements"/> where each alternative starts.</summary>
    public int[][] RuleAlternatives { get; }

    public ByteSet[] Terminals { get; }

    public int StartRule { get; }
}
