// A snapshot of the engine's occupancy, for logs, metrics and tests.
namespace Estuary.Engine;

/// <summary>Engine occupancy counters; the token counts are cumulative since the engine started (rates come from two snapshots).</summary>
/// <param name="NumPromptTokensComputed">Prompt tokens run through the model (prefill; a preempted prompt counts again when recomputed).</param>
/// <param name="NumGeneratedTokens">Tokens sampled.</param>
/// <param name="NumDraftTokens">Draft tokens proposed and verified (speculative decoding).</param>
/// <param name="NumAcceptedDraftTokens">Draft tokens the model's own samples confirmed (each saved a step).</param>
public sealed record EngineStats(int NumKvBlocks, int NumFreeKvBlocks, int PeakUsedKvBlocks, int NumRunning, int NumWaiting,
    long NumPreemptions, long NumSteps, long NumPromptTokensComputed = 0, long NumGeneratedTokens = 0, long NumDraftTokens = 0,
    long NumAcceptedDraftTokens = 0);
