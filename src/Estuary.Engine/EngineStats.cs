// A snapshot of the engine's occupancy, for logs, metrics and tests.
namespace Estuary.Engine;

/// <summary>Engine occupancy counters; the token counts are cumulative since the engine started (rates come from two snapshots).</summary>
/// <param name="NumPromptTokensComputed">Prompt tokens run through the model (prefill; a preempted prompt counts again when recomputed).</param>
/// <param name="NumGeneratedTokens">Tokens sampled.</param>
public sealed record EngineStats(int NumKvBlocks, int NumFreeKvBlocks, int PeakUsedKvBlocks, int NumRunning, int NumWaiting,
    long NumPreemptions, long NumSteps, long NumPromptTokensComputed = 0, long NumGeneratedTokens = 0);
