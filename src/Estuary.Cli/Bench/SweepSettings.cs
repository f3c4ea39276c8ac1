// A parsed workload plus the levels to run it at.
using Estuary.Bench.Workloads;

namespace Estuary.Cli.Bench;

/// <summary>What a sweep runs.</summary>
internal sealed record SweepSettings(IReadOnlyList<BenchRequest> Work, int[] Levels, double? RequestRate, int Seed, int Warmup,
    int InputLength, int OutputLength);
