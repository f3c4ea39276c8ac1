// Progress of a merge: tensors written so far out of all, and the one just written.
namespace Estuary.Models.Lora;

/// <summary>One progress report of <see cref="LoraMerger.Merge"/>.</summary>
public readonly record struct LoraMergeProgress(int Done, int Total, string Tensor);
