// AutoAWQ's zero-point INT4 round-to-nearest per group: s = f16(max(max-min, 1e-5)/15), z = clamp(round(-min/s), 0, 15),
// q = clamp(round(w/s) + z, 0, 15); round is half-to-even. An optional clip bound per group narrows [min, max] (AWQ's clip search).
namespace Estuary.Models.Quantization;

/// <summary>INT4 group quantization with zero point.</summary>
public static class Int4Quantizer
{
    /// <summary>Quantizes one group w [G] to q [G] in [0, 15]; <paramref name="clip"/> (if finite) clamps w to [-clip, clip] first.</summary>
    public static (Half Scale, byte Zero) QuantizeGroup(ReadOnlySpan<float> w, Span<byte> q, float clip = float.PositiveInfinity)
    {
        float max = float.NegativeInfinity, min = float.PositiveInfinity;
        foreach (var v0 in w)
        {
            float v = Math.Clamp(v0, -clip, clip);
            max = Math.Max(max, v);
            min = Math.Min(min, v);
        }
        var scale = (Half)(Math.Max(max - min, 1e-5f) / 15f);
        float s = (float)scale;
        byte z = (byte)Math.Clamp(MathF.Round(-min / s), 0f, 15f);
        for (int i = 0; i < w.Length; i++) q[i] = (byte)Math.Clamp(MathF.Round(Math.Clamp(w[i], -clip, clip) / s) + z, 0f, 15f);
        return (scale, z);
    }

    /// <summary>The dequantized group (q - z)·s into <paramref name="dst"/> (exact in F32).</summary>
    public static void DequantizeGroup(ReadOnlySpan<byte> q, Half scale, byte zero, Span<float> dst)
    {
        float s = (float)scale;
        for (int i = 0; i < q.Length; i++) dst[i] = (q[i] - zero) * s;
    }

    /// <summary>Quantizes then dequantizes w [K] in place with groups of <paramref name="groupSize"/> (AWQ's search objective).</summary>
    public static void FakeQuantizeRow(Span<float> w, int groupSize, ReadOnlySpan<float> clips = default)
    {
        Span<byte> q = stackalloc byte[groupSize];
        for (int g = 0; g < w.Length / groupSize; g++)
        {
            var group = w.Slice(g * groupSize, groupSize);
            var (s, z) = QuantizeGroup(group, q, clips.IsEmpty ? float.PositiveInfinity : clips[g]);
            DequantizeGroup(q, s, z, group);
        }
    }
}
