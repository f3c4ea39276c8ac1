// Decode micro-kernels for quantized weights: 4 (or 1) packed INT8/INT4 rows × 1 token, dequantized in registers, never in memory.
// Invariant (batch invariance): each output is Σ x[k]·deq(w[k]) with 8 lanes over k ≡ j (mod 8) in k order and MatMulKernel's lane
// reduction, and deq is exactly QuantizedWeight.DequantizeElement — so a row equals the widened-panel F32 path bit for bit.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Estuary.Tensors.Quantization;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>AVX2/FMA matvec micro-kernels over <see cref="QuantizedWeight"/> rows, and exact row dequantization for panels.</summary>
internal static unsafe class QuantizedMatMulKernel
{
    /// <summary>Up to this many tokens rows are dequantized in registers per token; above, a dequantized F32 panel is reused.</summary>
    public const int DirectMaxTokens = 4;

    /// <summary>y[0..4) = x · deq(w rows 0..3)ᵀ for one token; INT4 rows <paramref name="rowBytes"/> apart.</summary>
    /// <param name="x">[K] activations.</param>
    /// <param name="w">[4, K/2] packed nibbles.</param>
    /// <param name="s">[4, K/G] scales (row stride <paramref name="numGroups"/>).</param>
    /// <param name="o">[4, K/G] offsets −z·s.</param>
    /// <param name="prefetch">Prefetch the next 4 rows (contiguous after these) while streaming these.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int4Rows4(float* x, byte* w, nint rowBytes, float* s, float* o, int numGroups, int groupSize, float* y, bool prefetch)
    {
        Vector256<int> mask = Vector256.Create(15);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        byte* w1 = w + rowBytes, w2 = w + 2 * rowBytes, w3 = w + 3 * rowBytes;
        byte* next = w + 4 * rowBytes;
        for (int g = 0; g < numGroups; g++)
        {
            Vector256<float> s0 = Vector256.Create(s[g]), s1 = Vector256.Create(s[numGroups + g]);
            Vector256<float> s2 = Vector256.Create(s[2 * numGroups + g]), s3 = Vector256.Create(s[3 * numGroups + g]);
            Vector256<float> o0 = Vector256.Create(o[g]), o1 = Vector256.Create(o[numGroups + g]);
            Vector256<float> o2 = Vector256.Create(o[2 * numGroups + g]), o3 = Vector256.Create(o[3 * numGroups + g]);
            int kEnd = (g + 1) * groupSize;
            for (int k = g * groupSize; k < kEnd; k += 16)
            {
                // Hot spot (single-sequence decode): 4 × 8 bytes → 64 weights, each dequantized with one FMA and used by one FMA.
                int kb = k >> 1;
                if (prefetch) Sse.Prefetch0(next + 4 * kb);
                Vector256<float> xa = Avx.LoadVector256(x + k), xb = Avx.LoadVector256(x + k + 8);
                Vector256<int> b = Avx2.ConvertToVector256Int32(w + kb);
                a0 = Fma.MultiplyAdd(xa, Fma.MultiplyAdd(Avx.ConvertToVector256Single(b & mask), s0, o0), a0);
                a0 = Fma.MultiplyAdd(xb, Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ShiftRightLogical(b, 4)), s0, o0), a0);
                b = Avx2.ConvertToVector256Int32(w1 + kb);
                a1 = Fma.MultiplyAdd(xa, Fma.MultiplyAdd(Avx.ConvertToVector256Single(b & mask), s1, o1), a1);
                a1 = Fma.MultiplyAdd(xb, Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ShiftRightLogical(b, 4)), s1, o1), a1);
                b = Avx2.ConvertToVector256Int32(w2 + kb);
                a2 = Fma.MultiplyAdd(xa, Fma.MultiplyAdd(Avx.ConvertToVector256Single(b & mask), s2, o2), a2);
                a2 = Fma.MultiplyAdd(xb, Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ShiftRightLogical(b, 4)), s2, o2), a2);
                b = Avx2.ConvertToVector256Int32(w3 + kb);
                a3 = Fma.MultiplyAdd(xa, Fma.MultiplyAdd(Avx.ConvertToVector256Single(b & mask), s3, o3), a3);
                a3 = Fma.MultiplyAdd(xb, Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ShiftRightLogical(b, 4)), s3, o3), a3);
            }
        }
        y[0] = Reduce(a0); y[1] = Reduce(a1); y[2] = Reduce(a2); y[3] = Reduce(a3);
    }

    /// <summary>One INT4 row × one token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Int4Row(float* x, byte* w, float* s, float* o, int numGroups, int groupSize)
    {
        Vector256<int> mask = Vector256.Create(15);
        Vector256<float> a = default;
        for (int g = 0; g < numGroups; g++)
        {
            Vector256<float> sv = Vector256.Create(s[g]), ov = Vector256.Create(o[g]);
            int kEnd = (g + 1) * groupSize;
            for (int k = g * groupSize; k < kEnd; k += 16)
            {
                Vector256<int> b = Avx2.ConvertToVector256Int32(w + (k >> 1));
                a = Fma.MultiplyAdd(Avx.LoadVector256(x + k), Fma.MultiplyAdd(Avx.ConvertToVector256Single(b & mask), sv, ov), a);
                a = Fma.MultiplyAdd(Avx.LoadVector256(x + k + 8), Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ShiftRightLogical(b, 4)), sv, ov), a);
            }
        }
        return Reduce(a);
    }

    /// <summary>y[0..4) = x · deq(w rows 0..3)ᵀ for one token; INT8 rows of K bytes, one scale per row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int8Rows4(float* x, sbyte* w, nint k, float* s, float* y, bool prefetch)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> s0 = Vector256.Create(s[0]), s1 = Vector256.Create(s[1]), s2 = Vector256.Create(s[2]), s3 = Vector256.Create(s[3]);
        sbyte* w1 = w + k, w2 = w + 2 * k, w3 = w + 3 * k;
        byte* next = (byte*)(w + 4 * k);
        for (nint i = 0; i < k; i += 16)
        {
            // Hot spot (single-sequence decode): 4 × 16 bytes → 64 weights.
            if (prefetch) Sse.Prefetch0(next + 4 * i);
            Vector256<float> xa = Avx.LoadVector256(x + i), xb = Avx.LoadVector256(x + i + 8);
            a0 = Fma.MultiplyAdd(xa, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w + i)) * s0, a0);
            a0 = Fma.MultiplyAdd(xb, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w + i + 8)) * s0, a0);
            a1 = Fma.MultiplyAdd(xa, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w1 + i)) * s1, a1);
            a1 = Fma.MultiplyAdd(xb, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w1 + i + 8)) * s1, a1);
            a2 = Fma.MultiplyAdd(xa, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w2 + i)) * s2, a2);
            a2 = Fma.MultiplyAdd(xb, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w2 + i + 8)) * s2, a2);
            a3 = Fma.MultiplyAdd(xa, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w3 + i)) * s3, a3);
            a3 = Fma.MultiplyAdd(xb, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w3 + i + 8)) * s3, a3);
        }
        y[0] = Reduce(a0); y[1] = Reduce(a1); y[2] = Reduce(a2); y[3] = Reduce(a3);
    }

    /// <summary>One INT8 row × one token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Int8Row(float* x, sbyte* w, nint k, float s)
    {
        Vector256<float> a = default, sv = Vector256.Create(s);
        for (nint i = 0; i < k; i += 8)
            a = Fma.MultiplyAdd(Avx.LoadVector256(x + i), Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(w + i)) * sv, a);
        return Reduce(a);
    }

    /// <summary>dst[K] = deq(row <paramref name="row"/>), exactly (vectorised when AVX2 is there; same values either way).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DequantizeRow(QuantizedWeight w, int row, float* dst, bool simd)
    {
        int k = w.Cols, ng = w.NumGroups, gs = w.GroupSize;
        byte* p = (byte*)w.Data + (long)row * w.RowBytes;
        fixed (float* sp = w.Scales)
        fixed (float* op = w.Offsets)
        {
            float* s = sp + (long)row * ng;
            if (!simd)
            {
                for (int c = 0; c < k; c++) dst[c] = w.DequantizeElement(row, c);
                return;
            }
            if (w.Scheme == QuantScheme.Int8PerChannel)
            {
                var sv = Vector256.Create(s[0]);
                for (int c = 0; c < k; c += 8)
                    Avx.Store(dst + c, Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32((sbyte*)p + c)) * sv);
                return;
            }
            float* o = op + (long)row * ng;
            var mask = Vector256.Create(15);
            for (int g = 0; g < ng; g++)
            {
                Vector256<float> sv = Vector256.Create(s[g]), ov = Vector256.Create(o[g]);
                for (int c = g * gs; c < (g + 1) * gs; c += 16)
                {
                    Vector256<int> b = Avx2.ConvertToVector256Int32(p + (c >> 1));
                    Avx.Store(dst + c, Fma.MultiplyAdd(Avx.ConvertToVector256Single(b & mask), sv, ov));
                    Avx.Store(dst + c + 8, Fma.MultiplyAdd(Avx.ConvertToVector256Single(Avx2.ShiftRightLogical(b, 4)), sv, ov));
                }
            }
        }
    }

    /// <summary>MatMulKernel's lane reduction order (must stay identical for batch invariance).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Reduce(Vector256<float> a) =>
        ((a.GetElement(0) + a.GetElement(4)) + (a.GetElement(2) + a.GetElement(6))) + ((a.GetElement(1) + a.GetElement(5)) + (a.GetElement(3) + a.GetElement(7)));
}
