// Scheduler limits, taken from EngineConfig.
namespace Estuary.Engine.Scheduling;

/// <summary>Limits of one step.</summary>
internal sealed record SchedulerConfig(int MaxNumSeqs, int MaxNumBatchedTokens, SchedulingPolicy Policy, bool EnableChunkedPrefill);
