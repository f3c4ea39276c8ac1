// A parsed workload plus the levels to run it at.
using Estuary.Bench.Workloads;

namespace Estuary.Cli.Bench;

/// <summary>What a sweep runs.</summary>
internal sealed record SweepSettings(IReadOnlyList<BenchRequest> Work, int[] Levels, double? RequestRate, int Seed, int Warmup,
    int InputLength, int OutputLength)
{
    /// <summary>No --num-prompts given: each level runs the first max(8, 2 × concurrency) requests of <see cref="Work"/>.</summary>
    public bool PerLevelDefault { get; init; }

    /// <summary>Requests when no --num-prompts is given, for a level (and, over the largest level, the workload's size).</summary>
    public static int DefaultPrompts(int concurrency) => Math.Max(8, 2 * concurrency);

    /// <summary>The requests level <paramref name="concurrency"/> runs.</summary>
    public IReadOnlyList<BenchRequest> WorkFor(int concurrency) =>
        PerLevelDefault && RequestRate is null ? [.. Work.Take(DefaultPrompts(concurrency))] : Work;
}
