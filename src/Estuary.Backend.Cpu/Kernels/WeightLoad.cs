// Widening loads of weight elements (F32 / F16 / BF16 → F32), as static-abstract structs so kernels specialise per dtype.
// Invariant: every conversion is exact, and the 8-wide and scalar loads give bit-identical floats.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Estuary.Tensors;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Loads weight elements at element index k of a row given as a byte reference, widened to F32.</summary>
internal interface IWeightLoad
{
    /// <summary>Bytes per stored element.</summary>
    static abstract int ElementSize { get; }

    /// <summary>Elements k..k+7 widened.</summary>
    static abstract Vector256<float> Load8(ref byte row, nuint k);

    /// <summary>Element k widened.</summary>
    static abstract float Load1(ref byte row, nuint k);

    /// <summary>The 16 elements at <paramref name="p"/> widened (AVX-512 kernels only).</summary>
    static abstract unsafe Vector512<float> Load16(byte* p);
}

/// <summary>F32 weights: plain loads.</summary>
internal readonly struct F32Load : IWeightLoad
{
    public static int ElementSize => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ref byte row, nuint k) => Vector256.LoadUnsafe(ref Unsafe.As<byte, float>(ref row), k);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(ref byte row, nuint k) => Unsafe.Add(ref Unsafe.As<byte, float>(ref row), k);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> Load16(byte* p) => Vector512.Load((float*)p);
}

/// <summary>BF16 weights: zero-extend to 32 bits and shift left 16.</summary>
internal readonly struct BF16Load : IWeightLoad
{
    public static int ElementSize => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ref byte row, nuint k)
    {
        Vector256<uint> u = Widen.U16ToU32(Vector128.LoadUnsafe(ref Unsafe.As<byte, ushort>(ref row), k));
        return Vector256.ShiftLeft(u, 16).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(ref byte row, nuint k) =>
        BitConverter.UInt32BitsToSingle((uint)Unsafe.Add(ref Unsafe.As<byte, ushort>(ref row), k) << 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> Load16(byte* p) =>
        Vector512.ShiftLeft(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)p)), 16).AsSingle();
}

/// <summary>F16 weights: branch-free bit path (exponent rebias by a multiply with 2^112; Inf/NaN patched) — .NET exposes no F16C intrinsic.</summary>
internal readonly struct F16Load : IWeightLoad
{
    public static int ElementSize => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ref byte row, nuint k)
    {
        Vector256<uint> h = Widen.U16ToU32(Vector128.LoadUnsafe(ref Unsafe.As<byte, ushort>(ref row), k));
        Vector256<uint> sign = Vector256.ShiftLeft(h & Vector256.Create(0x8000u), 16);
        Vector256<uint> em = h & Vector256.Create(0x7FFFu);
        // Exponent+mantissa placed in a float's bit positions is the value times 2^-112 (subnormals included); rescale exactly.
        Vector256<float> mag = Vector256.ShiftLeft(em, 13).AsSingle() * Vector256.Create(Widen.TwoPow112);
        Vector256<uint> infNan = Vector256.GreaterThan(em, Vector256.Create(0x7BFFu)) & Vector256.Create(0x7F800000u);
        return (mag.AsUInt32() | infNan | sign).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(ref byte row, nuint k) =>
        (float)BitConverter.UInt16BitsToHalf(Unsafe.Add(ref Unsafe.As<byte, ushort>(ref row), k));

    /// <summary>The same bit path on 16 lanes at once (about half the instructions of two 8-lane loads).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> Load16(byte* p)
    {
        Vector512<uint> h = Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)p));
        Vector512<uint> em = h & Vector512.Create(0x7FFFu);
        Vector512<float> mag = Vector512.ShiftLeft(em, 13).AsSingle() * Vector512.Create(Widen.TwoPow112);
        Vector512<uint> infNan = Vector512.GreaterThan(em, Vector512.Create(0x7BFFu)) & Vector512.Create(0x7F800000u);
        Vector512<uint> sign = Vector512.ShiftLeft(h, 16) & Vector512.Create(0x80000000u);
        return (mag.AsUInt32() | infNan | sign).AsSingle();
    }
}

/// <summary>
/// F16 weights known to hold no Inf or NaN (checked when the backend rearranges them), widened with integer arithmetic only:
/// normal values by rebiasing the exponent (+112), subnormals (and zeros) as (2^-14 + m·2^-24) − 2^-14, both exact. No float
/// operation ever sees a subnormal operand, which on x86 costs a microcode assist per vector (a trained head's ≈ 0.2 % of F16
/// subnormals made the multiply-by-2^112 path 2–2.5× slower than BF16). Bit-identical to F16Load on every finite pattern.
/// </summary>
internal readonly struct F16FiniteLoad : IWeightLoad
{
    public static int ElementSize => 2;

    private const int ExponentRebias = 112 << 23;     // F16 exponent e → float exponent e + 112
    private const int SubnormalBias = 113 << 23;      // e = 0: 2^-14 · (1 + m/1024)
    private const int MagnitudeBits = 0x0FFFE000;     // exponent and mantissa after the shift by 13
    private const int Smallest = 1 << 23;             // magnitudes below this had e = 0
    private static readonly float TwoPowMinus14 = 1f / 16384;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ref byte row, nuint k)
    {
        Vector256<int> h = Avx2.IsSupported
            ? Avx2.ConvertToVector256Int32(Vector128.LoadUnsafe(ref Unsafe.As<byte, short>(ref row), k))
            : Vector256.WidenLower(Vector128.LoadUnsafe(ref Unsafe.As<byte, short>(ref row), k).ToVector256Unsafe());
        Vector256<int> t = Vector256.ShiftLeft(h, 13) & Vector256.Create(MagnitudeBits);
        Vector256<float> normal = (t + Vector256.Create(ExponentRebias)).AsSingle();
        Vector256<float> subnormal = (t + Vector256.Create(SubnormalBias)).AsSingle() - Vector256.Create(TwoPowMinus14);
        Vector256<float> magnitude = Vector256.ConditionalSelect(Vector256.LessThan(t, Vector256.Create(Smallest)).AsSingle(), subnormal, normal);
        return (magnitude.AsInt32() | (h & Vector256.Create(int.MinValue))).AsSingle(); // h is sign-extended: bit 31 is the sign
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(ref byte row, nuint k) => F16Load.Load1(ref row, k);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> Load16(byte* p)
    {
        Vector512<int> h = Avx512F.ConvertToVector512Int32(Vector256.Load((short*)p));
        Vector512<int> t = Vector512.ShiftLeft(h, 13) & Vector512.Create(MagnitudeBits);
        Vector512<float> normal = (t + Vector512.Create(ExponentRebias)).AsSingle();
        Vector512<float> subnormal = (t + Vector512.Create(SubnormalBias)).AsSingle() - Vector512.Create(TwoPowMinus14);
        Vector512<float> magnitude = Vector512.ConditionalSelect(Vector512.LessThan(t, Vector512.Create(Smallest)).AsSingle(), subnormal, normal);
        return (magnitude.AsInt32() | (h & Vector512.Create(int.MinValue))).AsSingle();
    }

    /// <summary>True when no element of the F16 bits is Inf or NaN (exponent field all ones).</summary>
    public static unsafe bool AllFinite(ushort* h, long count)
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<ushort> mask = Vector512.Create((ushort)0x7C00), any = default;
            for (; i + 32 <= count; i += 32)
            {
                Vector512<ushort> e = Vector512.Load(h + i) & mask;
                any |= Vector512.Equals(e, mask);
            }
            if (any != Vector512<ushort>.Zero) return false;
        }
        for (; i < count; i++)
            if ((h[i] & 0x7C00) == 0x7C00) return false;
        return true;
    }
}

/// <summary>
/// Shifted-F16 codes (Estuary.Tensors.ShiftedHalf) widened to value · 2^-102: sign-extend, shift left 13, mask — three integer
/// operations, never a subnormal. Only for activations multiplied by 2^102 (see PackedMatMulJob).
/// </summary>
internal readonly struct ShiftedHalfLoad : IWeightLoad
{
    public static int ElementSize => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ref byte row, nuint k)
    {
        Vector128<short> c = Vector128.LoadUnsafe(ref Unsafe.As<byte, short>(ref row), k);
        Vector256<int> h = Avx2.IsSupported ? Avx2.ConvertToVector256Int32(c) : Vector256.WidenLower(c.ToVector256Unsafe());
        return (Vector256.ShiftLeft(h, 13).AsUInt32() & Vector256.Create(ShiftedHalf.Mask)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(ref byte row, nuint k) => ShiftedHalf.DecodeScaled(Unsafe.Add(ref Unsafe.As<byte, ushort>(ref row), k));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> Load16(byte* p)
    {
        Vector512<int> h = Avx512F.ConvertToVector512Int32(Vector256.Load((short*)p));
        return (Vector512.ShiftLeft(h, 13).AsUInt32() & Vector512.Create(ShiftedHalf.Mask)).AsSingle();
    }
}

/// <summary>Shifted-F16 codes widened to their values (ShiftedHalfLoad times 2^102, exact): activations used as they are.</summary>
internal readonly struct ShiftedHalfExactLoad : IWeightLoad
{
    public static int ElementSize => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ref byte row, nuint k) => ShiftedHalfLoad.Load8(ref row, k) * Vector256.Create(ShiftedHalf.ActivationScale);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(ref byte row, nuint k) => ShiftedHalf.Decode(Unsafe.Add(ref Unsafe.As<byte, ushort>(ref row), k));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> Load16(byte* p) => ShiftedHalfLoad.Load16(p) * Vector512.Create(ShiftedHalf.ActivationScale);
}

/// <summary>
/// Signed 8-bit elements (an I8 KV cache) converted to F32: sign-extend and convert, exact. The per-vector scale is applied by
/// the caller (attention multiplies a key's score, or a value's probability, by it).
/// </summary>
internal readonly struct I8Load : IWeightLoad
{
    public static int ElementSize => 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ref byte row, nuint k)
    {
        Vector128<sbyte> b = Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<long>(ref Unsafe.Add(ref row, k))).AsSByte();
        if (Avx2.IsSupported) return Vector256.ConvertToSingle(Avx2.ConvertToVector256Int32(b));
        Vector128<short> h = Vector128.WidenLower(b);
        return Vector256.ConvertToSingle(Vector256.Create(Vector128.WidenLower(h), Vector128.WidenUpper(h)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(ref byte row, nuint k) => (sbyte)Unsafe.Add(ref row, k);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> Load16(byte* p) => Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)p)));
}

/// <summary>Shared widening helpers.</summary>
internal static class Widen
{
    /// <summary>2^112 as a float (bits 0x77800000).</summary>
    public static readonly float TwoPow112 = BitConverter.UInt32BitsToSingle(0x77800000u);

    /// <summary>Zero-extends 8 ushorts to uints (vpmovzxwd on AVX2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> U16ToU32(Vector128<ushort> v) => Avx2.IsSupported
        ? Avx2.ConvertToVector256Int32(v).AsUInt32()
        : Vector256.Create(Vector128.WidenLower(v), Vector128.WidenUpper(v));

    /// <summary>dst[0..n) = widened row[0..n); vectorised when <paramref name="simd"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row<TW>(ref byte row, int n, ref float dst, bool simd)
        where TW : struct, IWeightLoad
    {
        nuint i = 0;
        if (simd)
        {
            nuint n8 = (nuint)(n & ~7);
            for (; i < n8; i += 8) TW.Load8(ref row, i).StoreUnsafe(ref dst, i);
        }
        for (; i < (nuint)n; i++) Unsafe.Add(ref dst, i) = TW.Load1(ref row, i);
    }
}
