// Symmetric per-output-channel INT8 round-to-nearest: s = f16(max|w|/127), q = clamp(round(w/s), -127, 127).
// Invariant: the scale is F16-valued (it is what our INT8 checkpoints store), so q·s is exact in F32 and files round-trip bit for bit.
using Estuary.Tensors;
using Estuary.Tensors.Quantization;

namespace Estuary.Models.Quantization;

/// <summary>INT8 weight quantization (per row).</summary>
public static class Int8Quantizer
{
    /// <summary>Quantizes one row w [K] into q [K]; returns the F16-valued scale.</summary>
    public static Half QuantizeRow(ReadOnlySpan<float> w, Span<sbyte> q)
    {
        float max = 0;
        foreach (var v in w) max = Math.Max(max, Math.Abs(v));
        // An all-zero row gets scale 1 so dequantization stays finite; its q are all 0 anyway.
        var scale = max > 0 ? (Half)(max / 127f) : (Half)1f;
        if ((float)scale == 0) scale = Half.Epsilon; // rows with max below F16's range: keep a non-zero scale
        float s = (float)scale;
        for (int i = 0; i < w.Length; i++) q[i] = (sbyte)Math.Clamp(MathF.Round(w[i] / s), -127f, 127f);
        return scale;
    }

    /// <summary>Quantizes a float weight [N, K] into the kernels' layout.</summary>
    public static QuantizedWeight Quantize(Weight w)
    {
        ArgumentNullException.ThrowIfNull(w);
        var result = new QuantizedWeight(w.Name, QuantScheme.Int8PerChannel, w.Rows, w.Cols, w.Cols);
        var row = new float[w.Cols];
        var q = new sbyte[w.Cols];
        for (int r = 0; r < w.Rows; r++)
        {
            w.ReadRow(r, row);
            result.SetRowInt8(r, q, (float)QuantizeRow(row, q));
        }
        return result;
    }
}
