// "Shifted F16": a finite F16 weight re-encoded in 16 bits so that widening it costs three integer operations and never produces a
// subnormal float. The code keeps F16's sign bit and 10-bit mantissa; its 5-bit exponent field is the F16 exponent plus 10 (F16
// subnormals are normalised, which is exact). Sign-extended to 32 bits, shifted left by 13 and masked with 0x8FFFFFFF, the code is
// the F32 bit pattern of value · 2^-102, which is a normal float (or zero) for every encodable value. A kernel multiplies its
// activations by 2^102 instead, exactly while |x| < 2^26, so every product — and every FMA result — equals the F16 one bit for bit.
// Values with |w| ≥ 128 and Inf/NaN have no code: such a weight stays plain F16.
namespace Estuary.Tensors;

/// <summary>Encoding and decoding of shifted-F16 codes (see the file comment).</summary>
public static class ShiftedHalf
{
    /// <summary>A code decodes (<see cref="DecodeScaled"/>) to the value times 2^-<see cref="Exponent"/>.</summary>
    public const int Exponent = 102;

    /// <summary>Mask applied after the sign extension and the shift by 13: clears the three sign copies above the exponent.</summary>
    public const uint Mask = 0x8FFFFFFF;

    /// <summary>Activations at or above this magnitude (bits of |x|: 2^26) would overflow when multiplied by 2^102.</summary>
    public const uint ActivationLimitBits = (127 + 128 - Exponent) << 23;

    /// <summary>2^102, the activation factor.</summary>
    public static readonly float ActivationScale = BitConverter.UInt32BitsToSingle((127 + Exponent) << 23);

    /// <summary>2^-102 as a float (normal).</summary>
    private static readonly float InverseScale = BitConverter.UInt32BitsToSingle((127 - Exponent) << 23);

    /// <summary>The code of the F16 value with bits <paramref name="half"/>, or false when it is Inf, NaN or at least 128 in magnitude.</summary>
    public static bool TryEncode(ushort half, out ushort code)
    {
        float v = (float)BitConverter.UInt16BitsToHalf(half);
        code = 0;
        if (!float.IsFinite(v) || MathF.Abs(v) >= 128f) return false;
        uint u = BitConverter.SingleToUInt32Bits(v * InverseScale); // exact: |v| ≥ 2^-24 gives ≥ 2^-126, a normal float
        uint exponent = (u >> 23) & 0xFF;                             // 0 only for ±0
        code = (ushort)(((u >> 16) & 0x8000) | (exponent << 10) | ((u >> 13) & 0x3FF));
        return true;
    }

    /// <summary>value · 2^-102 (what the fast kernels multiply with activations scaled by 2^102).</summary>
    public static float DecodeScaled(ushort code) => BitConverter.UInt32BitsToSingle((uint)((short)code << 13) & Mask);

    /// <summary>The encoded value (exact: a normal float times a power of two that keeps it below 128).</summary>
    public static float Decode(ushort code) => DecodeScaled(code) * ActivationScale;
}
