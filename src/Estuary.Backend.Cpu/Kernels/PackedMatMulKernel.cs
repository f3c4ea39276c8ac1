// y[T, N] = x[T, K] · w[N, K]ᵀ for weights in WeightLayout.Interleaved16: outer-product micro-kernels — one vector holds 16
// outputs' weights for one k, the token's x[t, k] is broadcast — so there are no horizontal sums and no weight reuse limits.
// Invariant (batch invariance): every y[t, n] is one FMA chain over k = 0..K-1 in order, starting from +0, whatever T, tile shape,
// K-blocking (a partial sum parked in y continues the same chain), vector width (512, 256 or scalar), threads or weight dtype.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Tokens per micro tile as a type, so each tile height compiles to its own straight-line kernel.</summary>
internal interface ITokenCount
{
    static abstract int M { get; }
}

internal readonly struct Tokens1 : ITokenCount { public static int M => 1; }
internal readonly struct Tokens2 : ITokenCount { public static int M => 2; }
internal readonly struct Tokens3 : ITokenCount { public static int M => 3; }
internal readonly struct Tokens4 : ITokenCount { public static int M => 4; }
internal readonly struct Tokens5 : ITokenCount { public static int M => 5; }
internal readonly struct Tokens6 : ITokenCount { public static int M => 6; }
internal readonly struct Tokens7 : ITokenCount { public static int M => 7; }
internal readonly struct Tokens8 : ITokenCount { public static int M => 8; }

/// <summary>Whether a micro tile also writes the F32 weight vectors it loads to a panel, as a type (compiled out when off).</summary>
internal interface IPanelWrite
{
    static abstract bool On { get; }
}

internal readonly struct NoPanelWrite : IPanelWrite { public static bool On => false; }
internal readonly struct PanelWrite : IPanelWrite { public static bool On => true; }

/// <summary>Micro-kernels over Interleaved16 weights; addresses are raw (weights are native memory, activations pinned arrays).</summary>
internal static unsafe class PackedMatMulKernel
{
    /// <summary>Outputs per interleaved block.</summary>
    public const int Block = 16;

    /// <summary>Most tokens per micro tile (24 accumulators = 4 blocks × 6 tokens of the 32 zmm registers).</summary>
    public const int MaxTile = 6;

    /// <summary>
    /// How far ahead (bytes) kernels that stream weights from memory prefetch each of their four weight streams. In-process
    /// alternation of on/off per T = 1 matvec (TinyLlama shapes): BF16 −12 %, INT8 −14 %, INT4 −3 to −10 % time. In whole-model
    /// decode BF16 gained 7–10 %; INT8's whole-model results disagreed between runs (see docs/quantization.md).
    /// </summary>
    public const int StreamPrefetchBytes = 2048;

    /// <summary>
    /// 4 blocks (64 outputs) × TM tokens with Vector512, k in [k0, k1). Element k of block b is at w + b·bs + 16·k·size;
    /// x[t, k] at x + t·ldx + k; y[t, j] at y + t·ldy + j. Partial sums are read from y when <paramref name="accumulate"/>.
    /// <paramref name="prefetch"/> &gt; 0: each block's weights that many bytes ahead are prefetched (weights read from memory).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Micro4x512<TW, TM>(float* x, nint ldx, byte* w, nint bs, float* y, nint ldy, nint k0, nint k1, bool accumulate,
        nint prefetch = 0)
        where TW : struct, IWeightLoad where TM : struct, ITokenCount =>
        Micro4x512<TW, TM, NoPanelWrite>(x, ldx, w, bs, y, ldy, k0, k1, accumulate, prefetch, null, 0);

    /// <summary>
    /// Micro4x512 that, with <typeparamref name="TP"/> = <see cref="PanelWrite"/>, also stores each widened weight vector: element k
    /// of block b at panel + b·<paramref name="pbs"/> + 64·k bytes (the blocked regime's F32 panel, filled by its first token tile).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Micro4x512<TW, TM, TP>(float* x, nint ldx, byte* w, nint bs, float* y, nint ldy, nint k0, nint k1, bool accumulate,
        nint prefetch, byte* panel, nint pbs)
        where TW : struct, IWeightLoad where TM : struct, ITokenCount where TP : struct, IPanelWrite
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default; // a{token}{block}
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        Vector512<float> a40 = default, a41 = default, a42 = default, a43 = default;
        Vector512<float> a50 = default, a51 = default, a52 = default, a53 = default;
        float* y0 = y, y1 = y + ldy, y2 = y + 2 * ldy, y3 = y + 3 * ldy, y4 = y + 4 * ldy, y5 = y + 5 * ldy;
        if (accumulate)
        {
            a00 = Vector512.Load(y0); a01 = Vector512.Load(y0 + 16); a02 = Vector512.Load(y0 + 32); a03 = Vector512.Load(y0 + 48);
            if (TM.M > 1) { a10 = Vector512.Load(y1); a11 = Vector512.Load(y1 + 16); a12 = Vector512.Load(y1 + 32); a13 = Vector512.Load(y1 + 48); }
            if (TM.M > 2) { a20 = Vector512.Load(y2); a21 = Vector512.Load(y2 + 16); a22 = Vector512.Load(y2 + 32); a23 = Vector512.Load(y2 + 48); }
            if (TM.M > 3) { a30 = Vector512.Load(y3); a31 = Vector512.Load(y3 + 16); a32 = Vector512.Load(y3 + 32); a33 = Vector512.Load(y3 + 48); }
            if (TM.M > 4) { a40 = Vector512.Load(y4); a41 = Vector512.Load(y4 + 16); a42 = Vector512.Load(y4 + 32); a43 = Vector512.Load(y4 + 48); }
            if (TM.M > 5) { a50 = Vector512.Load(y5); a51 = Vector512.Load(y5 + 16); a52 = Vector512.Load(y5 + 32); a53 = Vector512.Load(y5 + 48); }
        }
        float* x0 = x, x1 = x + ldx, x2 = x + 2 * ldx, x3 = x + 3 * ldx, x4 = x + 4 * ldx, x5 = x + 5 * ldx;
        byte* w0 = w, w1 = w + bs, w2 = w + 2 * bs, w3 = w + 3 * bs;
        nint step = Block * TW.ElementSize;
        for (nint k = k0; k < k1; k++)
        {
            // Hot spot: 4 weight vectors (64 outputs at k) feed TM·4 FMAs; each token costs one broadcast.
            nint o = k * step;
            if (prefetch > 0 && (o & 63) == 0)
            {
                Sse.Prefetch0(w0 + o + prefetch); Sse.Prefetch0(w1 + o + prefetch);
                Sse.Prefetch0(w2 + o + prefetch); Sse.Prefetch0(w3 + o + prefetch);
            }
            Vector512<float> b0 = TW.Load16(w0 + o), b1 = TW.Load16(w1 + o), b2 = TW.Load16(w2 + o), b3 = TW.Load16(w3 + o);
            if (TP.On)
            {
                float* q = (float*)(panel + 64 * k);
                b0.Store(q); b1.Store((float*)((byte*)q + pbs)); b2.Store((float*)((byte*)q + 2 * pbs)); b3.Store((float*)((byte*)q + 3 * pbs));
            }
            Vector512<float> v = Vector512.Create(x0[k]);
            a00 = Vector512.FusedMultiplyAdd(v, b0, a00); a01 = Vector512.FusedMultiplyAdd(v, b1, a01);
            a02 = Vector512.FusedMultiplyAdd(v, b2, a02); a03 = Vector512.FusedMultiplyAdd(v, b3, a03);
            if (TM.M > 1)
            {
                v = Vector512.Create(x1[k]);
                a10 = Vector512.FusedMultiplyAdd(v, b0, a10); a11 = Vector512.FusedMultiplyAdd(v, b1, a11);
                a12 = Vector512.FusedMultiplyAdd(v, b2, a12); a13 = Vector512.FusedMultiplyAdd(v, b3, a13);
            }
            if (TM.M > 2)
            {
                v = Vector512.Create(x2[k]);
                a20 = Vector512.FusedMultiplyAdd(v, b0, a20); a21 = Vector512.FusedMultiplyAdd(v, b1, a21);
                a22 = Vector512.FusedMultiplyAdd(v, b2, a22); a23 = Vector512.FusedMultiplyAdd(v, b3, a23);
            }
            if (TM.M > 3)
            {
                v = Vector512.Create(x3[k]);
                a30 = Vector512.FusedMultiplyAdd(v, b0, a30); a31 = Vector512.FusedMultiplyAdd(v, b1, a31);
                a32 = Vector512.FusedMultiplyAdd(v, b2, a32); a33 = Vector512.FusedMultiplyAdd(v, b3, a33);
            }
            if (TM.M > 4)
            {
                v = Vector512.Create(x4[k]);
                a40 = Vector512.FusedMultiplyAdd(v, b0, a40); a41 = Vector512.FusedMultiplyAdd(v, b1, a41);
                a42 = Vector512.FusedMultiplyAdd(v, b2, a42); a43 = Vector512.FusedMultiplyAdd(v, b3, a43);
            }
            if (TM.M > 5)
            {
                v = Vector512.Create(x5[k]);
                a50 = Vector512.FusedMultiplyAdd(v, b0, a50); a51 = Vector512.FusedMultiplyAdd(v, b1, a51);
                a52 = Vector512.FusedMultiplyAdd(v, b2, a52); a53 = Vector512.FusedMultiplyAdd(v, b3, a53);
            }
        }
        a00.Store(y0); a01.Store(y0 + 16); a02.Store(y0 + 32); a03.Store(y0 + 48);
        if (TM.M > 1) { a10.Store(y1); a11.Store(y1 + 16); a12.Store(y1 + 32); a13.Store(y1 + 48); }
        if (TM.M > 2) { a20.Store(y2); a21.Store(y2 + 16); a22.Store(y2 + 32); a23.Store(y2 + 48); }
        if (TM.M > 3) { a30.Store(y3); a31.Store(y3 + 16); a32.Store(y3 + 32); a33.Store(y3 + 48); }
        if (TM.M > 4) { a40.Store(y4); a41.Store(y4 + 16); a42.Store(y4 + 32); a43.Store(y4 + 48); }
        if (TM.M > 5) { a50.Store(y5); a51.Store(y5 + 16); a52.Store(y5 + 32); a53.Store(y5 + 48); }
    }

    // Tokens in the next of `tilesLeft` balanced tiles over `remaining` tokens (the tiles differ by at most one token).
    private static int TileHeight(int remaining, int tilesLeft) => (remaining + tilesLeft - 1) / tilesLeft;

    /// <summary>Most tokens per 2-block micro tile (16 accumulators).</summary>
    public const int MaxTile2 = 8;

    /// <summary>
    /// 2 blocks (32 outputs) × TM tokens (up to 8) with Vector512 over k in [0, <paramref name="k"/>), from +0 (the direct regime: no
    /// K-slicing); addressing as in Micro4x512. For batched decode on 2-byte weights: each weight vector is widened once for up to
    /// 8 tokens (two 4-block tiles of 4 tokens widen it twice), so a k step costs 4 widening µops for 16 FMAs instead of 16 for 32.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Micro2x512<TW, TM>(float* x, nint ldx, byte* w, nint bs, float* y, nint ldy, nint k, nint prefetch)
        where TW : struct, IWeightLoad where TM : struct, ITokenCount
    {
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default; // a{token}{block}
        Vector512<float> a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        Vector512<float> a60 = default, a61 = default, a70 = default, a71 = default;
        float* y0 = y, y1 = y + ldy, y2 = y + 2 * ldy, y3 = y + 3 * ldy, y4 = y + 4 * ldy, y5 = y + 5 * ldy, y6 = y + 6 * ldy, y7 = y + 7 * ldy;
        float* x0 = x, x1 = x + ldx, x2 = x + 2 * ldx, x3 = x + 3 * ldx, x4 = x + 4 * ldx, x5 = x + 5 * ldx, x6 = x + 6 * ldx, x7 = x + 7 * ldx;
        byte* w0 = w, w1 = w + bs;
        nint step = Block * TW.ElementSize;
        for (nint c = 0; c < k; c++)
        {
            // Hot spot: 2 weight vectors (32 outputs at c) feed TM·2 FMAs; each token costs one broadcast.
            nint o = c * step;
            if (prefetch > 0 && (o & 63) == 0) { Sse.Prefetch0(w0 + o + prefetch); Sse.Prefetch0(w1 + o + prefetch); }
            Vector512<float> b0 = TW.Load16(w0 + o), b1 = TW.Load16(w1 + o);
            Vector512<float> v = Vector512.Create(x0[c]);
            a00 = Vector512.FusedMultiplyAdd(v, b0, a00); a01 = Vector512.FusedMultiplyAdd(v, b1, a01);
            if (TM.M > 1) { v = Vector512.Create(x1[c]); a10 = Vector512.FusedMultiplyAdd(v, b0, a10); a11 = Vector512.FusedMultiplyAdd(v, b1, a11); }
            if (TM.M > 2) { v = Vector512.Create(x2[c]); a20 = Vector512.FusedMultiplyAdd(v, b0, a20); a21 = Vector512.FusedMultiplyAdd(v, b1, a21); }
            if (TM.M > 3) { v = Vector512.Create(x3[c]); a30 = Vector512.FusedMultiplyAdd(v, b0, a30); a31 = Vector512.FusedMultiplyAdd(v, b1, a31); }
            if (TM.M > 4) { v = Vector512.Create(x4[c]); a40 = Vector512.FusedMultiplyAdd(v, b0, a40); a41 = Vector512.FusedMultiplyAdd(v, b1, a41); }
            if (TM.M > 5) { v = Vector512.Create(x5[c]); a50 = Vector512.FusedMultiplyAdd(v, b0, a50); a51 = Vector512.FusedMultiplyAdd(v, b1, a51); }
            if (TM.M > 6) { v = Vector512.Create(x6[c]); a60 = Vector512.FusedMultiplyAdd(v, b0, a60); a61 = Vector512.FusedMultiplyAdd(v, b1, a61); }
            if (TM.M > 7) { v = Vector512.Create(x7[c]); a70 = Vector512.FusedMultiplyAdd(v, b0, a70); a71 = Vector512.FusedMultiplyAdd(v, b1, a71); }
        }
        a00.Store(y0); a01.Store(y0 + 16);
        if (TM.M > 1) { a10.Store(y1); a11.Store(y1 + 16); }
        if (TM.M > 2) { a20.Store(y2); a21.Store(y2 + 16); }
        if (TM.M > 3) { a30.Store(y3); a31.Store(y3 + 16); }
        if (TM.M > 4) { a40.Store(y4); a41.Store(y4 + 16); }
        if (TM.M > 5) { a50.Store(y5); a51.Store(y5 + 16); }
        if (TM.M > 6) { a60.Store(y6); a61.Store(y6 + 16); }
        if (TM.M > 7) { a70.Store(y7); a71.Store(y7 + 16); }
    }

    /// <summary>
    /// The 4 blocks at <paramref name="w"/> as two 2-block halves over k in [0, <paramref name="k"/>), each over <paramref name="tokens"/> tokens in balanced tiles of at
    /// most 8 (7 → 7, 12 → 6 + 6, 16 → 8 + 8); the first tile of each half prefetches <paramref name="prefetch"/> bytes ahead.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tiles2x2x512<TW>(float* x, nint ldx, int tokens, byte* w, nint bs, float* y, nint ldy, nint k, nint prefetch)
        where TW : struct, IWeightLoad
    {
        int tiles = (tokens + MaxTile2 - 1) / MaxTile2;
        for (int half = 0; half < 2; half++)
        {
            byte* wh = w + 2 * half * bs;
            float* yh = y + 2 * half * Block;
            for (int t = 0, i = 0; t < tokens; i++)
            {
                int m = TileHeight(tokens - t, tiles - i);
                float* xt = x + t * ldx, yt = yh + t * ldy;
                nint pf = i == 0 ? prefetch : 0;
                switch (m)
                {
                    case 8: Micro2x512<TW, Tokens8>(xt, ldx, wh, bs, yt, ldy, k, pf); break;
                    case 7: Micro2x512<TW, Tokens7>(xt, ldx, wh, bs, yt, ldy, k, pf); break;
                    case 6: Micro2x512<TW, Tokens6>(xt, ldx, wh, bs, yt, ldy, k, pf); break;
                    case 5: Micro2x512<TW, Tokens5>(xt, ldx, wh, bs, yt, ldy, k, pf); break;
                    case 4: Micro2x512<TW, Tokens4>(xt, ldx, wh, bs, yt, ldy, k, pf); break;
                    case 3: Micro2x512<TW, Tokens3>(xt, ldx, wh, bs, yt, ldy, k, pf); break;
                    case 2: Micro2x512<TW, Tokens2>(xt, ldx, wh, bs, yt, ldy, k, pf); break;
                    default: Micro2x512<TW, Tokens1>(xt, ldx, wh, bs, yt, ldy, k, pf); break;
                }
                t += m;
            }
        }
    }

    /// <summary>1 block (16 outputs, two Vector256 halves) × TM tokens: machines without AVX-512, and a weight's last 1–3 blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Micro1x256<TW, TM>(float* x, nint ldx, byte* w, float* y, nint ldy, nint k0, nint k1, bool accumulate)
        where TW : struct, IWeightLoad where TM : struct, ITokenCount
    {
        Vector256<float> l0 = default, h0 = default, l1 = default, h1 = default, l2 = default, h2 = default; // {low,high}{token}
        Vector256<float> l3 = default, h3 = default, l4 = default, h4 = default, l5 = default, h5 = default;
        float* y0 = y, y1 = y + ldy, y2 = y + 2 * ldy, y3 = y + 3 * ldy, y4 = y + 4 * ldy, y5 = y + 5 * ldy;
        if (accumulate)
        {
            l0 = Vector256.Load(y0); h0 = Vector256.Load(y0 + 8);
            if (TM.M > 1) { l1 = Vector256.Load(y1); h1 = Vector256.Load(y1 + 8); }
            if (TM.M > 2) { l2 = Vector256.Load(y2); h2 = Vector256.Load(y2 + 8); }
            if (TM.M > 3) { l3 = Vector256.Load(y3); h3 = Vector256.Load(y3 + 8); }
            if (TM.M > 4) { l4 = Vector256.Load(y4); h4 = Vector256.Load(y4 + 8); }
            if (TM.M > 5) { l5 = Vector256.Load(y5); h5 = Vector256.Load(y5 + 8); }
        }
        float* x0 = x, x1 = x + ldx, x2 = x + 2 * ldx, x3 = x + 3 * ldx, x4 = x + 4 * ldx, x5 = x + 5 * ldx;
        nint step = Block * TW.ElementSize, half = 8 * TW.ElementSize;
        for (nint k = k0; k < k1; k++)
        {
            byte* p = w + k * step;
            Vector256<float> bl = TW.Load8(ref *p, 0), bh = TW.Load8(ref *(p + half), 0);
            Vector256<float> v = Vector256.Create(x0[k]);
            l0 = Vector256.FusedMultiplyAdd(v, bl, l0); h0 = Vector256.FusedMultiplyAdd(v, bh, h0);
            if (TM.M > 1) { v = Vector256.Create(x1[k]); l1 = Vector256.FusedMultiplyAdd(v, bl, l1); h1 = Vector256.FusedMultiplyAdd(v, bh, h1); }
            if (TM.M > 2) { v = Vector256.Create(x2[k]); l2 = Vector256.FusedMultiplyAdd(v, bl, l2); h2 = Vector256.FusedMultiplyAdd(v, bh, h2); }
            if (TM.M > 3) { v = Vector256.Create(x3[k]); l3 = Vector256.FusedMultiplyAdd(v, bl, l3); h3 = Vector256.FusedMultiplyAdd(v, bh, h3); }
            if (TM.M > 4) { v = Vector256.Create(x4[k]); l4 = Vector256.FusedMultiplyAdd(v, bl, l4); h4 = Vector256.FusedMultiplyAdd(v, bh, h4); }
            if (TM.M > 5) { v = Vector256.Create(x5[k]); l5 = Vector256.FusedMultiplyAdd(v, bl, l5); h5 = Vector256.FusedMultiplyAdd(v, bh, h5); }
        }
        l0.Store(y0); h0.Store(y0 + 8);
        if (TM.M > 1) { l1.Store(y1); h1.Store(y1 + 8); }
        if (TM.M > 2) { l2.Store(y2); h2.Store(y2 + 8); }
        if (TM.M > 3) { l3.Store(y3); h3.Store(y3 + 8); }
        if (TM.M > 4) { l4.Store(y4); h4.Store(y4 + 8); }
        if (TM.M > 5) { l5.Store(y5); h5.Store(y5 + 8); }
    }

    /// <summary>
    /// Portable path: <paramref name="outputs"/> outputs whose weight for k is at w + k·kStride + j·jStride (elements), each one
    /// scalar FMA chain in k order — the same chain the vector kernels compute lane by lane. Serves blocks without SIMD and the
    /// N mod 16 tail rows (kStride 1, jStride K).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scalar<TW>(float* x, nint ldx, int tokens, byte* w, nint kStride, nint jStride, int outputs, float* y, nint ldy,
        nint k0, nint k1, bool accumulate)
        where TW : struct, IWeightLoad
    {
        for (int t = 0; t < tokens; t++)
        {
            float* xt = x + t * ldx;
            for (int j = 0; j < outputs; j++)
            {
                float acc = accumulate ? y[t * ldy + j] : 0f;
                for (nint k = k0; k < k1; k++)
                    acc = MathF.FusedMultiplyAdd(xt[k], TW.Load1(ref *w, (nuint)(k * kStride + j * jStride)), acc);
                y[t * ldy + j] = acc;
            }
        }
    }

    /// <summary>
    /// Runs the 4-block Vector512 kernel over <paramref name="tokens"/> tokens in balanced tiles of at most 6; the first tile
    /// prefetches <paramref name="prefetch"/> bytes ahead (later tiles find the weights in cache).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tiles4x512<TW>(float* x, nint ldx, int tokens, byte* w, nint bs, float* y, nint ldy, nint k0, nint k1, bool accumulate,
        nint prefetch = 0)
        where TW : struct, IWeightLoad
    {
        int tiles = (tokens + MaxTile - 1) / MaxTile;
        for (int t = 0, i = 0; t < tokens; i++)
        {
            int m = TileHeight(tokens - t, tiles - i); // balanced: 8 → 4 + 4, 16 → 6 + 5 + 5
            float* xt = x + t * ldx, yt = y + t * ldy;
            nint pf = i == 0 ? prefetch : 0;
            switch (m)
            {
                case 6: Micro4x512<TW, Tokens6>(xt, ldx, w, bs, yt, ldy, k0, k1, accumulate, pf); break;
                case 5: Micro4x512<TW, Tokens5>(xt, ldx, w, bs, yt, ldy, k0, k1, accumulate, pf); break;
                case 4: Micro4x512<TW, Tokens4>(xt, ldx, w, bs, yt, ldy, k0, k1, accumulate, pf); break;
                case 3: Micro4x512<TW, Tokens3>(xt, ldx, w, bs, yt, ldy, k0, k1, accumulate, pf); break;
                case 2: Micro4x512<TW, Tokens2>(xt, ldx, w, bs, yt, ldy, k0, k1, accumulate, pf); break;
                default: Micro4x512<TW, Tokens1>(xt, ldx, w, bs, yt, ldy, k0, k1, accumulate, pf); break;
            }
            t += m;
        }
    }

    /// <summary>
    /// Tiles4x512 over k in [k0, k1) reading the 4 blocks at <paramref name="w"/> (stride <paramref name="bs"/>) in their stored dtype:
    /// the first tile widens each weight vector once, computes with it and stores it to the F32 panel (addressed as in the
    /// PanelWrite Micro4x512), prefetching the stored weights <paramref name="prefetch"/> bytes ahead; the other tiles read the panel.
    /// One pass instead of a widening pass and then the tiles: the first tile's FMAs hide the weights' memory latency.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WidenTiles4x512<TW>(float* x, nint ldx, int tokens, byte* w, nint bs, byte* panel, nint pbs, float* y, nint ldy,
        nint k0, nint k1, bool accumulate, nint prefetch)
        where TW : struct, IWeightLoad
    {
        int m = TileHeight(tokens, (tokens + MaxTile - 1) / MaxTile);
        switch (m)
        {
            case 6: Micro4x512<TW, Tokens6, PanelWrite>(x, ldx, w, bs, y, ldy, k0, k1, accumulate, prefetch, panel, pbs); break;
            case 5: Micro4x512<TW, Tokens5, PanelWrite>(x, ldx, w, bs, y, ldy, k0, k1, accumulate, prefetch, panel, pbs); break;
            case 4: Micro4x512<TW, Tokens4, PanelWrite>(x, ldx, w, bs, y, ldy, k0, k1, accumulate, prefetch, panel, pbs); break;
            case 3: Micro4x512<TW, Tokens3, PanelWrite>(x, ldx, w, bs, y, ldy, k0, k1, accumulate, prefetch, panel, pbs); break;
            case 2: Micro4x512<TW, Tokens2, PanelWrite>(x, ldx, w, bs, y, ldy, k0, k1, accumulate, prefetch, panel, pbs); break;
            default: Micro4x512<TW, Tokens1, PanelWrite>(x, ldx, w, bs, y, ldy, k0, k1, accumulate, prefetch, panel, pbs); break;
        }
        if (m < tokens)
            Tiles4x512<F32Load>(x + m * ldx, ldx, tokens - m, panel, pbs, y + m * ldy, ldy, k0, k1, accumulate);
    }

    /// <summary>Runs the 1-block Vector256 kernel over <paramref name="tokens"/> tokens in balanced tiles of at most 6.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tiles1x256<TW>(float* x, nint ldx, int tokens, byte* w, float* y, nint ldy, nint k0, nint k1, bool accumulate)
        where TW : struct, IWeightLoad
    {
        int tiles = (tokens + MaxTile - 1) / MaxTile;
        for (int t = 0, i = 0; t < tokens; i++)
        {
            int m = TileHeight(tokens - t, tiles - i);
            float* xt = x + t * ldx, yt = y + t * ldy;
            switch (m)
            {
                case 6: Micro1x256<TW, Tokens6>(xt, ldx, w, yt, ldy, k0, k1, accumulate); break;
                case 5: Micro1x256<TW, Tokens5>(xt, ldx, w, yt, ldy, k0, k1, accumulate); break;
                case 4: Micro1x256<TW, Tokens4>(xt, ldx, w, yt, ldy, k0, k1, accumulate); break;
                case 3: Micro1x256<TW, Tokens3>(xt, ldx, w, yt, ldy, k0, k1, accumulate); break;
                case 2: Micro1x256<TW, Tokens2>(xt, ldx, w, yt, ldy, k0, k1, accumulate); break;
                default: Micro1x256<TW, Tokens1>(xt, ldx, w, yt, ldy, k0, k1, accumulate); break;
            }
            t += m;
        }
    }
}
