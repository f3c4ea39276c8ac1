// A parsed workload plus the levels to run it at. Random workloads give the warm-up and every level prompts of their own, so a
// server's prefix cache never serves a later level (or the first measured request) from prompts it has already seen — a
// continuous-batching server with prefix caching would otherwise skip prefills the baseline has to do.
using Estuary.Bench.Workloads;

namespace Estuary.Cli.Bench;

/// <summary>What a sweep runs.</summary>
internal sealed record SweepSettings(IReadOnlyList<BenchRequest> Work, int[] Levels, double? RequestRate, int Seed, int Warmup,
    int InputLength, int OutputLength)
{
    /// <summary>--num-prompts: requests per level; null = max(8, 2 × concurrency) per level.</summary>
    public int? PromptsPerLevel { get; init; }

    /// <summary>--request-timeout: how long one request may take to its last byte before it counts as failed.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary><see cref="Work"/> holds the warm-up's prompts, then each level's own, in level order (random workloads).</summary>
    public bool DisjointLevels { get; init; }

    /// <summary>Requests when no --num-prompts is given, for a level.</summary>
    public static int DefaultPrompts(int concurrency) => Math.Max(8, 2 * concurrency);

    /// <summary>Random prompts to generate so that the warm-up and every level get their own.</summary>
    public static int PromptsNeeded(int[] levels, int? perLevel, int warmup, bool rateMode) =>
        Math.Max(0, warmup) + (rateMode ? perLevel ?? DefaultPrompts(levels.Max()) : levels.Sum(c => perLevel ?? DefaultPrompts(c)));

    /// <summary>The requests the warm-up cycles through.</summary>
    public IReadOnlyList<BenchRequest> WarmupWork => DisjointLevels ? [.. Work.Take(Math.Max(1, Warmup))] : Work;

    /// <summary>The requests level <paramref name="index"/> (of <see cref="Levels"/>) runs.</summary>
    public IReadOnlyList<BenchRequest> WorkForLevel(int index)
    {
        if (!DisjointLevels)
            return PromptsPerLevel is null && RequestRate is null ? [.. Work.Take(DefaultPrompts(Levels[index]))] : Work;
        int offset = Math.Max(0, Warmup);
        for (int i = 0; i < index; i++) offset += Count(Levels[i]);
        return [.. Work.Skip(offset).Take(Count(Levels[index]))];
    }

    private int Count(int concurrency) => RequestRate is not null ? Work.Count - Math.Max(0, Warmup) : PromptsPerLevel ?? DefaultPrompts(concurrency);
}
