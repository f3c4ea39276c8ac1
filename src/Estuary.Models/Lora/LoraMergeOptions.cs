// What `merge-lora` needs: adapter folder, base folder (default: the adapter's base_model_name_or_path), output, dtype, shard size.
using Estuary.Tensors;

namespace Estuary.Models.Lora;

/// <summary>Inputs of <see cref="LoraMerger.Merge"/>.</summary>
public sealed record LoraMergeOptions(string LoraDir, string MergedDir)
{
    /// <summary>Base model folder; null = the adapter's <c>base_model_name_or_path</c>, relative to the adapter folder's parent.</summary>
    public string? BaseDir { get; init; }
    /// <summary>dtype of the written floating-point tensors (F16 by default, as merge_lora.py writes).</summary>
    public DType DType { get; init; } = DType.F16;
    /// <summary>Most data bytes per shard (Hugging Face's "5GB" = 5·10⁹).</summary>
    public long MaxShardBytes { get; init; } = 5_000_000_000;
    /// <summary>Replace a non-empty output folder.</summary>
    public bool Overwrite { get; init; }
}
