// Widening loads of weight elements (F32 / F16 / BF16 → F32), as static-abstract structs so kernels specialise per dtype.
// Invariant: every conversion is exact, and the 8-wide and scalar loads give bit-identical floats.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
