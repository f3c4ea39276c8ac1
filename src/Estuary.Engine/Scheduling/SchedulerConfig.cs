// Scheduler limits, taken from EngineConfig.
namespace Estuary.Engine.Scheduling;

/// <summary>Limits of one step.</summary>
internal sealed record SchedulerConfig(int MaxNumSeqs, int MaxNumBatchedTokens, SchedulingPolicy Policy, bool EnableChunkedPrefill)
{
    /// <summary>Most draft tokens per decoding sequence and step (0 = no speculative decoding).</summary>
    public int NumSpeculativeTokens { get; init; }
    /// <summary>No drafts while this many requests or more are running or waiting (null = no limit).</summary>
    public int? SpeculativeDisableBySize { get; init; }
    /// <summary>Admission and preemption order.</summary>
    public RequestOrder Order { get; init; }
}
