// Settings of `estuary quantize --method awq` (AutoAWQ's names in comments).
namespace Estuary.Models.Quantization;

/// <summary>AWQ search and packing settings.</summary>
public sealed record AwqOptions
{
    /// <summary>w_bit (only 4 is written: the AutoAWQ GEMM format).</summary>
    public int Bits { get; init; } = 4;
    /// <summary>q_group_size.</summary>
    public int GroupSize { get; init; } = 128;
    /// <summary>zero_point (only true: GEMM checkpoints carry zeros).</summary>
    public bool ZeroPoint { get; init; } = true;
    /// <summary>Grid points for α ∈ [0, 1) (n_grid).</summary>
    public int ScaleGrid { get; init; } = 20;
    /// <summary>Search per-group clipping ranges (apply_clip).</summary>
    public bool SearchClip { get; init; } = true;
    /// <summary>Activation rows kept per linear input to evaluate the output error.</summary>
    public int MaxSampleRows { get; init; } = 512;

    /// <summary>Problems, each naming the option.</summary>
    public IReadOnlyList<string> Validate()
    {
        var e = new List<string>();
        if (Bits != 4) e.Add($"--w-bit must be 4 (AutoAWQ GEMM format), got {Bits}");
        if (GroupSize <= 0 || GroupSize % 16 != 0) e.Add($"--group-size must be a positive multiple of 16, got {GroupSize}");
        if (!ZeroPoint) e.Add("--zero-point false is not supported (GEMM checkpoints carry zero points)");
        if (ScaleGrid < 1) e.Add($"scale grid must be positive, got {ScaleGrid}");
        if (MaxSampleRows < 1) e.Add($"sample rows must be positive, got {MaxSampleRows}");
        return e;
    }
}
