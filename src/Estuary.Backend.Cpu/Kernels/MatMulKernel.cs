// y[T, N] = x[T, K] · w[N, K]ᵀ with w widened from F32/F16/BF16 in registers (or once into an F32 panel for large T).
// Invariant (batch invariance): every y[t, n] is summed in one fixed order — 8 lanes over k ≡ j (mod 8) with FMA, a fixed lane
// reduction, then the k-tail in order — whatever T, tile shape, regime, thread count or weight dtype path; so rows are bit-identical.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Dot-product-form matmul micro-kernels (4 weight rows × 4/2/1 tokens) and the tiling around them.</summary>
internal static unsafe class MatMulKernel
{
    /// <summary>Up to this many tokens weights are streamed straight from storage (decode); above, F16/BF16 blocks are widened into a panel.</summary>
    public const int DirectMaxTokens = 16;

    /// <summary>Weight rows per micro tile.</summary>
    public const int RowGroup = 4;

    /// <summary>Rows of a widened panel for the blocked (prefill) regime: about 192 KiB of F32 so it stays in L2, a multiple of 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int PanelRows(int k) => Math.Clamp(192 * 1024 / (4 * Math.Max(k, 1)) / RowGroup * RowGroup, RowGroup, 64);

    /// <summary>y[0..T, 0..nb) = x · w[0..nb)ᵀ. Tokens outer (tiles of 4, 2, 1), rows inner (groups of 4, then singles).</summary>
    /// <param name="x">[T, K] row-major.</param>
    /// <param name="w">[nb, K] rows of TW elements.</param>
    /// <param name="y">[T, ldy]; column 0 is this block's first output.</param>
    /// <param name="prefetchNext">Streaming (decode) regime: while a group of 4 rows is read, prefetch the 4 rows after it.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile<TW>(ref float x, int tokens, int k, ref byte w, int nb, ref float y, int ldy, bool simd, bool prefetchNext = false)
        where TW : struct, IWeightLoad
    {
        nint ws = (nint)k * TW.ElementSize; // bytes per weight row
        int t = 0;
        while (t < tokens)
        {
            int tc = tokens - t >= 4 ? 4 : tokens - t >= 2 ? 2 : 1;
            ref float xt = ref Unsafe.Add(ref x, (nint)t * k);  // [tc, K]
            ref float yt = ref Unsafe.Add(ref y, (nint)t * ldy); // [tc, ldy]
            int r = 0;
            if (simd)
            {
                for (; r + RowGroup <= nb; r += RowGroup)
                {
                    ref byte wr = ref Unsafe.AddByteOffset(ref w, r * ws);
                    ref float yr = ref Unsafe.Add(ref yt, r);
                    // Only the first token tile streams the rows from memory; later tiles find them in L1.
                    bool pf = prefetchNext && t == 0;
                    if (tc == 4) Micro4x4<TW>(ref xt, k, ref wr, ws, ref yr, ldy, pf);
                    else if (tc == 2) Micro4x2<TW>(ref xt, k, ref wr, ws, ref yr, ldy, pf);
                    else Micro4x1<TW>(ref xt, k, ref wr, ws, ref yr, pf);
                }
            }
            for (; r < nb; r++)
            {
                ref byte wr = ref Unsafe.AddByteOffset(ref w, r * ws);
                for (int j = 0; j < tc; j++)
                {
                    ref float xj = ref Unsafe.Add(ref xt, (nint)j * k);
                    Unsafe.Add(ref yt, (nint)j * ldy + r) = simd ? Dot<TW>(ref xj, ref wr, k) : DotScalar<TW>(ref xj, ref wr, k);
                }
            }
            t += tc;
        }
    }

    /// <summary>One dot product, SIMD: same lane order as the micro-kernels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot<TW>(ref float x, ref byte w, int k)
        where TW : struct, IWeightLoad
    {
        var acc = Vector256<float>.Zero;
        nuint k8 = (nuint)(k & ~7);
        for (nuint i = 0; i < k8; i += 8)
            acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref x, i), TW.Load8(ref w, i), acc);
        return Finish<TW>(acc, ref x, ref w, k);
    }

    /// <summary>Portable fallback: emulates the 8 SIMD lanes with scalar FMAs so results match the vector path bit for bit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float DotScalar<TW>(ref float x, ref byte w, int k)
        where TW : struct, IWeightLoad
    {
        Span<float> lanes = stackalloc float[8];
        lanes.Clear();
        nuint k8 = (nuint)(k & ~7);
        for (nuint i = 0; i < k8; i += 8)
        {
            for (int j = 0; j < 8; j++)
            {
                nuint e = i + (nuint)j;
                lanes[j] = MathF.FusedMultiplyAdd(Unsafe.Add(ref x, e), TW.Load1(ref w, e), lanes[j]);
            }
        }
        float r = Reduce(lanes[0], lanes[1], lanes[2], lanes[3], lanes[4], lanes[5], lanes[6], lanes[7]);
        for (nuint i = k8; i < (nuint)k; i++) r = MathF.FusedMultiplyAdd(Unsafe.Add(ref x, i), TW.Load1(ref w, i), r);
        return r;
    }

    /// <summary>Lane reduction (fixed order) plus the k-tail, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish<TW>(Vector256<float> acc, ref float x, ref byte w, int k)
        where TW : struct, IWeightLoad
    {
        float r = Reduce(acc.GetElement(0), acc.GetElement(1), acc.GetElement(2), acc.GetElement(3),
            acc.GetElement(4), acc.GetElement(5), acc.GetElement(6), acc.GetElement(7));
        for (nuint i = (nuint)(k & ~7); i < (nuint)k; i++) r = MathF.FusedMultiplyAdd(Unsafe.Add(ref x, i), TW.Load1(ref w, i), r);
        return r;
    }

    /// <summary>
    /// Prefetches the slice of the next 4-row group that matches step i of the current one: the group reads 4·8·size bytes per
    /// step, and the next group's [4, K] block is contiguous, so one step covers 32·size bytes of it (1 line for 16-bit, 2 for F32).
    /// Rows of 2K–4K bytes end before the hardware prefetchers ramp up; this keeps the stream going across rows and pages.
    /// Prefetch never faults, so running past the end of the weight is harmless.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch<TW>(byte* next, nuint i)
        where TW : struct, IWeightLoad
    {
        if (!Sse.IsSupported) return;
        byte* p = next + i * 4 * (nuint)TW.ElementSize;
        Sse.Prefetch0(p);
        if (TW.ElementSize == 4) Sse.Prefetch0(p + 64);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Reduce(float l0, float l1, float l2, float l3, float l4, float l5, float l6, float l7) =>
        ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7));

    /// <summary>4 weight rows × 4 tokens: 16 accumulators (fits the 16/32 ymm registers with the 4 widened rows and one x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro4x4<TW>(ref float x, int k, ref byte w, nint ws, ref float y, int ldy, bool prefetch)
        where TW : struct, IWeightLoad
    {
        ref float x0 = ref x;                                 // [K]
        ref float x1 = ref Unsafe.Add(ref x, k);
        ref float x2 = ref Unsafe.Add(ref x, 2 * (nint)k);
        ref float x3 = ref Unsafe.Add(ref x, 3 * (nint)k);
        ref byte w0 = ref w;                                  // [K] of TW
        ref byte w1 = ref Unsafe.AddByteOffset(ref w, ws);
        ref byte w2 = ref Unsafe.AddByteOffset(ref w, 2 * ws);
        ref byte w3 = ref Unsafe.AddByteOffset(ref w, 3 * ws);
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default; // a{token}{row}
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector256<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector256<float> a30 = default, a31 = default, a32 = default, a33 = default;
        // The following 4 rows, contiguous [4, K]; only taken when streaming native weight memory (never a managed panel).
        byte* next = prefetch ? (byte*)Unsafe.AsPointer(ref w) + 4 * ws : null;
        nuint k8 = (nuint)(k & ~7);
        for (nuint i = 0; i < k8; i += 8)
        {
            if (prefetch) Prefetch<TW>(next, i);
            // Hot spot: 4 weight loads (widened) + 4 activation loads feed 16 FMAs.
            Vector256<float> b0 = TW.Load8(ref w0, i), b1 = TW.Load8(ref w1, i), b2 = TW.Load8(ref w2, i), b3 = TW.Load8(ref w3, i);
            Vector256<float> v = Vector256.LoadUnsafe(ref x0, i);
            a00 = Vector256.FusedMultiplyAdd(v, b0, a00); a01 = Vector256.FusedMultiplyAdd(v, b1, a01);
            a02 = Vector256.FusedMultiplyAdd(v, b2, a02); a03 = Vector256.FusedMultiplyAdd(v, b3, a03);
            v = Vector256.LoadUnsafe(ref x1, i);
            a10 = Vector256.FusedMultiplyAdd(v, b0, a10); a11 = Vector256.FusedMultiplyAdd(v, b1, a11);
            a12 = Vector256.FusedMultiplyAdd(v, b2, a12); a13 = Vector256.FusedMultiplyAdd(v, b3, a13);
            v = Vector256.LoadUnsafe(ref x2, i);
            a20 = Vector256.FusedMultiplyAdd(v, b0, a20); a21 = Vector256.FusedMultiplyAdd(v, b1, a21);
            a22 = Vector256.FusedMultiplyAdd(v, b2, a22); a23 = Vector256.FusedMultiplyAdd(v, b3, a23);
            v = Vector256.LoadUnsafe(ref x3, i);
            a30 = Vector256.FusedMultiplyAdd(v, b0, a30); a31 = Vector256.FusedMultiplyAdd(v, b1, a31);
            a32 = Vector256.FusedMultiplyAdd(v, b2, a32); a33 = Vector256.FusedMultiplyAdd(v, b3, a33);
        }
        ref float y1 = ref Unsafe.Add(ref y, ldy);
        ref float y2 = ref Unsafe.Add(ref y, 2 * (nint)ldy);
        ref float y3 = ref Unsafe.Add(ref y, 3 * (nint)ldy);
        y = Finish<TW>(a00, ref x0, ref w0, k); Unsafe.Add(ref y, 1) = Finish<TW>(a01, ref x0, ref w1, k);
        Unsafe.Add(ref y, 2) = Finish<TW>(a02, ref x0, ref w2, k); Unsafe.Add(ref y, 3) = Finish<TW>(a03, ref x0, ref w3, k);
        y1 = Finish<TW>(a10, ref x1, ref w0, k); Unsafe.Add(ref y1, 1) = Finish<TW>(a11, ref x1, ref w1, k);
        Unsafe.Add(ref y1, 2) = Finish<TW>(a12, ref x1, ref w2, k); Unsafe.Add(ref y1, 3) = Finish<TW>(a13, ref x1, ref w3, k);
        y2 = Finish<TW>(a20, ref x2, ref w0, k); Unsafe.Add(ref y2, 1) = Finish<TW>(a21, ref x2, ref w1, k);
        Unsafe.Add(ref y2, 2) = Finish<TW>(a22, ref x2, ref w2, k); Unsafe.Add(ref y2, 3) = Finish<TW>(a23, ref x2, ref w3, k);
        y3 = Finish<TW>(a30, ref x3, ref w0, k); Unsafe.Add(ref y3, 1) = Finish<TW>(a31, ref x3, ref w1, k);
        Unsafe.Add(ref y3, 2) = Finish<TW>(a32, ref x3, ref w2, k); Unsafe.Add(ref y3, 3) = Finish<TW>(a33, ref x3, ref w3, k);
    }

    /// <summary>4 weight rows × 2 tokens.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro4x2<TW>(ref float x, int k, ref byte w, nint ws, ref float y, int ldy, bool prefetch)
        where TW : struct, IWeightLoad
    {
        ref float x0 = ref x;                                 // [K]
        ref float x1 = ref Unsafe.Add(ref x, k);
        ref byte w0 = ref w;                                  // [K] of TW
        ref byte w1 = ref Unsafe.AddByteOffset(ref w, ws);
        ref byte w2 = ref Unsafe.AddByteOffset(ref w, 2 * ws);
        ref byte w3 = ref Unsafe.AddByteOffset(ref w, 3 * ws);
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        // The following 4 rows, contiguous [4, K]; only taken when streaming native weight memory (never a managed panel).
        byte* next = prefetch ? (byte*)Unsafe.AsPointer(ref w) + 4 * ws : null;
        nuint k8 = (nuint)(k & ~7);
        for (nuint i = 0; i < k8; i += 8)
        {
            if (prefetch) Prefetch<TW>(next, i);
            // Hot spot (decode, 2 sequences): each widened weight vector feeds 2 FMAs.
            Vector256<float> b0 = TW.Load8(ref w0, i), b1 = TW.Load8(ref w1, i), b2 = TW.Load8(ref w2, i), b3 = TW.Load8(ref w3, i);
            Vector256<float> v = Vector256.LoadUnsafe(ref x0, i);
            a00 = Vector256.FusedMultiplyAdd(v, b0, a00); a01 = Vector256.FusedMultiplyAdd(v, b1, a01);
            a02 = Vector256.FusedMultiplyAdd(v, b2, a02); a03 = Vector256.FusedMultiplyAdd(v, b3, a03);
            v = Vector256.LoadUnsafe(ref x1, i);
            a10 = Vector256.FusedMultiplyAdd(v, b0, a10); a11 = Vector256.FusedMultiplyAdd(v, b1, a11);
            a12 = Vector256.FusedMultiplyAdd(v, b2, a12); a13 = Vector256.FusedMultiplyAdd(v, b3, a13);
        }
        ref float y1 = ref Unsafe.Add(ref y, ldy);
        y = Finish<TW>(a00, ref x0, ref w0, k); Unsafe.Add(ref y, 1) = Finish<TW>(a01, ref x0, ref w1, k);
        Unsafe.Add(ref y, 2) = Finish<TW>(a02, ref x0, ref w2, k); Unsafe.Add(ref y, 3) = Finish<TW>(a03, ref x0, ref w3, k);
        y1 = Finish<TW>(a10, ref x1, ref w0, k); Unsafe.Add(ref y1, 1) = Finish<TW>(a11, ref x1, ref w1, k);
        Unsafe.Add(ref y1, 2) = Finish<TW>(a12, ref x1, ref w2, k); Unsafe.Add(ref y1, 3) = Finish<TW>(a13, ref x1, ref w3, k);
    }

    /// <summary>4 weight rows × 1 token (T = 1 decode: pure weight streaming).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Micro4x1<TW>(ref float x, int k, ref byte w, nint ws, ref float y, bool prefetch)
        where TW : struct, IWeightLoad
    {
        ref byte w0 = ref w;                                  // [K] of TW
        ref byte w1 = ref Unsafe.AddByteOffset(ref w, ws);
        ref byte w2 = ref Unsafe.AddByteOffset(ref w, 2 * ws);
        ref byte w3 = ref Unsafe.AddByteOffset(ref w, 3 * ws);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        // The following 4 rows, contiguous [4, K]; only taken when streaming native weight memory (never a managed panel).
        byte* next = prefetch ? (byte*)Unsafe.AsPointer(ref w) + 4 * ws : null;
        nuint k8 = (nuint)(k & ~7);
        for (nuint i = 0; i < k8; i += 8)
        {
            if (prefetch) Prefetch<TW>(next, i);
            // Hot spot (single decode): memory-bound stream of 4 weight rows.
            Vector256<float> v = Vector256.LoadUnsafe(ref x, i);
            a0 = Vector256.FusedMultiplyAdd(v, TW.Load8(ref w0, i), a0);
            a1 = Vector256.FusedMultiplyAdd(v, TW.Load8(ref w1, i), a1);
            a2 = Vector256.FusedMultiplyAdd(v, TW.Load8(ref w2, i), a2);
            a3 = Vector256.FusedMultiplyAdd(v, TW.Load8(ref w3, i), a3);
        }
        y = Finish<TW>(a0, ref x, ref w0, k);
        Unsafe.Add(ref y, 1) = Finish<TW>(a1, ref x, ref w1, k);
        Unsafe.Add(ref y, 2) = Finish<TW>(a2, ref x, ref w2, k);
        Unsafe.Add(ref y, 3) = Finish<TW>(a3, ref x, ref w3, k);
    }
}
