// A snapshot of the engine's occupancy, for logs, metrics and tests.
namespace Estuary.Engine;

/// <summary>Engine occupancy counters.</summary>
public sealed record EngineStats(int NumKvBlocks, int NumFreeKvBlocks, int PeakUsedKvBlocks, int NumRunning, int NumWaiting,
    long NumPreemptions, long NumSteps);
