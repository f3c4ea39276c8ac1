// Pools repeated rounds of one deployment's sweep into one run: per level, every round's requests together over the sum of the
// rounds' wall times, so a pooled throughput is all tokens over all time (not a mean of rates), and latency percentiles are over
// every request.
using Estuary.Bench.Output;

namespace Estuary.Bench.Stats;

/// <summary>Combines rounds of the same sweep.</summary>
public static class RoundPooling
{
    /// <summary>
    /// One run whose level i holds the requests of level i of every round, timed by the sum of their durations. The rounds must
    /// have run the same levels in the same order.
    /// </summary>
    public static BenchRun Pool(IReadOnlyList<BenchRun> rounds)
    {
        if (rounds.Count == 0) throw new ArgumentException("no rounds to pool", nameof(rounds));
        var first = rounds[0];
        if (rounds.Count == 1) return first;
        var levels = new List<LevelResult>();
        for (int i = 0; i < first.Levels.Count; i++)
        {
            var level = first.Levels[i];
            var same = rounds.Select(r => i < r.Levels.Count ? r.Levels[i] : null).ToList();
            if (same.Any(l => l is null || l.Concurrency != level.Concurrency || l.RequestRate != level.RequestRate))
                throw new ArgumentException($"round {same.FindIndex(l => l is null || l.Concurrency != level.Concurrency || l.RequestRate != level.RequestRate) + 1} " +
                    $"of '{first.Label}' did not run level {i + 1} (concurrency {level.Concurrency}) as round 1 did", nameof(rounds));
            levels.Add(LevelResult.From(level.Concurrency, level.RequestRate, same.Sum(l => l!.Duration), [.. same.SelectMany(l => l!.Requests)]));
        }
        return first with { NumPrompts = rounds.Sum(r => r.NumPrompts), Levels = levels };
    }
}
