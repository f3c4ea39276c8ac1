// What a merge did: counts, sizes and the time spent loading/checking versus merging and writing.
namespace Estuary.Models.Lora;

/// <summary>Summary of a finished <see cref="LoraMerger.Merge"/>.</summary>
public sealed record LoraMergeResult(string BaseDir, string MergedDir, int NumTensors, int NumMerged, int NumReplaced,
    IReadOnlyList<string> Shards, long DataBytes, TimeSpan LoadTime, TimeSpan MergeTime);
