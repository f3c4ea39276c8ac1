// Decode over quantized weights (QuantizedWeight's interleaved layout): 4 blocks = 64 outputs × up to 4 tokens per call, Vector512,
// each 16-lane weight vector turned into floats in registers and used by one FMA per token — the weights stream from memory once.
// Invariant: every lane computes exactly QuantizedMatMulReference.RunExact's chain (integer weights as exact floats, scales applied
// after the k sums), the same operations the panel path performs, so one token's outputs equal a batched call's bit for bit.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Estuary.Tensors.Quantization;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Fused dequantize-and-multiply kernels for tiles of 1–4 tokens (AVX-512 only).</summary>
internal static unsafe class QuantizedDecodeKernel
{
    /// <summary>Float value of each centred nibble: table[q] = q − 8 (vpermps reads only the low 4 bits of each index).</summary>
    public static Vector512<float> CenteredNibbles =>
        Vector512.Create(-8f, -7f, -6f, -5f, -4f, -3f, -2f, -1f, 0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f);

    /// <summary>
    /// INT4 for TM tokens (1–4; x[t, k] at x + t·ldx + k) and the unit's 64 outputs (y[t, j] at y + t·ldy + j). Block b's packed
    /// words start at w + b·bs (8 k per 64 bytes); its F16 scales and zero points for group g at s + b·sbs + 16·g and z + b·sbs + 16·g;
    /// X_g[t] = Σ x[t, k∈g] at xsum + t·ldxs + g. Each 16-weight vector is turned into floats once and used by TM FMAs.
    /// <paramref name="prefetch"/> &gt; 0: each block's integers that many bytes ahead are prefetched (first tile of a unit).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int4Tile<TM>(float* x, nint ldx, byte* w, nint bs, ushort* s, byte* z, nint sbs, float* xsum, nint ldxs,
        int numGroups, int groupSize, float* y, nint ldy, nint prefetch)
        where TM : struct, ITokenCount
    {
        Vector512<float> table = CenteredNibbles;
        byte* w0 = w, w1 = w + bs, w2 = w + 2 * bs, w3 = w + 3 * bs;
        float* x0 = x, x1 = x + ldx, x2 = x + 2 * ldx, x3 = x + 3 * ldx;
        for (int g = 0; g < numGroups; g++)
        {
            Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default; // a{token}{block}
            Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
            Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
            Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
            nint kEnd = (nint)(g + 1) * groupSize;
            for (nint k = (nint)g * groupSize; k < kEnd; k += 8)
            {
                nint o = 8 * k;
                if (prefetch > 0)
                {
                    Sse.Prefetch0(w0 + o + prefetch); Sse.Prefetch0(w1 + o + prefetch);
                    Sse.Prefetch0(w2 + o + prefetch); Sse.Prefetch0(w3 + o + prefetch);
                }
                Vector512<int> v0 = Vector512.Load((int*)(w0 + o)), v1 = Vector512.Load((int*)(w1 + o));
                Vector512<int> v2 = Vector512.Load((int*)(w2 + o)), v3 = Vector512.Load((int*)(w3 + o));
                // Hot spot (decode): 4 × 64 bytes = 8 k × 64 rows; per 16 weights one vpermps, one shift (nibbles 1–7), TM FMAs.
                // nibble 0: k + 0
                Vector512<float> d0 = Avx512F.PermuteVar16x32(table, v0), d1 = Avx512F.PermuteVar16x32(table, v1);
                Vector512<float> d2 = Avx512F.PermuteVar16x32(table, v2), d3 = Avx512F.PermuteVar16x32(table, v3);
                Vector512<float> xb = Vector512.Create(x0[k]);
                a00 = Vector512.FusedMultiplyAdd(xb, d0, a00); a01 = Vector512.FusedMultiplyAdd(xb, d1, a01);
                a02 = Vector512.FusedMultiplyAdd(xb, d2, a02); a03 = Vector512.FusedMultiplyAdd(xb, d3, a03);
                if (TM.M > 1)
                {
                    xb = Vector512.Create(x1[k + 0]);
                    a10 = Vector512.FusedMultiplyAdd(xb, d0, a10); a11 = Vector512.FusedMultiplyAdd(xb, d1, a11);
                    a12 = Vector512.FusedMultiplyAdd(xb, d2, a12); a13 = Vector512.FusedMultiplyAdd(xb, d3, a13);
                }
                if (TM.M > 2)
                {
                    xb = Vector512.Create(x2[k + 0]);
                    a20 = Vector512.FusedMultiplyAdd(xb, d0, a20); a21 = Vector512.FusedMultiplyAdd(xb, d1, a21);
                    a22 = Vector512.FusedMultiplyAdd(xb, d2, a22); a23 = Vector512.FusedMultiplyAdd(xb, d3, a23);
                }
                if (TM.M > 3)
                {
                    xb = Vector512.Create(x3[k + 0]);
                    a30 = Vector512.FusedMultiplyAdd(xb, d0, a30); a31 = Vector512.FusedMultiplyAdd(xb, d1, a31);
                    a32 = Vector512.FusedMultiplyAdd(xb, d2, a32); a33 = Vector512.FusedMultiplyAdd(xb, d3, a33);
                }
                // nibble 1: k + 1
                d0 = Nibble(table, v0, 4); d1 = Nibble(table, v1, 4);
                d2 = Nibble(table, v2, 4); d3 = Nibble(table, v3, 4);
                xb = Vector512.Create(x0[k + 1]);
                a00 = Vector512.FusedMultiplyAdd(xb, d0, a00); a01 = Vector512.FusedMultiplyAdd(xb, d1, a01);
                a02 = Vector512.FusedMultiplyAdd(xb, d2, a02); a03 = Vector512.FusedMultiplyAdd(xb, d3, a03);
                if (TM.M > 1)
                {
                    xb = Vector512.Create(x1[k + 1]);
                    a10 = Vector512.FusedMultiplyAdd(xb, d0, a10); a11 = Vector512.FusedMultiplyAdd(xb, d1, a11);
                    a12 = Vector512.FusedMultiplyAdd(xb, d2, a12); a13 = Vector512.FusedMultiplyAdd(xb, d3, a13);
                }
                if (TM.M > 2)
                {
                    xb = Vector512.Create(x2[k + 1]);
                    a20 = Vector512.FusedMultiplyAdd(xb, d0, a20); a21 = Vector512.FusedMultiplyAdd(xb, d1, a21);
                    a22 = Vector512.FusedMultiplyAdd(xb, d2, a22); a23 = Vector512.FusedMultiplyAdd(xb, d3, a23);
                }
                if (TM.M > 3)
                {
                    xb = Vector512.Create(x3[k + 1]);
                    a30 = Vector512.FusedMultiplyAdd(xb, d0, a30); a31 = Vector512.FusedMultiplyAdd(xb, d1, a31);
                    a32 = Vector512.FusedMultiplyAdd(xb, d2, a32); a33 = Vector512.FusedMultiplyAdd(xb, d3, a33);
                }
                // nibble 2: k + 2
                d0 = Nibble(table, v0, 8); d1 = Nibble(table, v1, 8);
                d2 = Nibble(table, v2, 8); d3 = Nibble(table, v3, 8);
                xb = Vector512.Create(x0[k + 2]);
                a00 = Vector512.FusedMultiplyAdd(xb, d0, a00); a01 = Vector512.FusedMultiplyAdd(xb, d1, a01);
                a02 = Vector512.FusedMultiplyAdd(xb, d2, a02); a03 = Vector512.FusedMultiplyAdd(xb, d3, a03);
                if (TM.M > 1)
                {
                    xb = Vector512.Create(x1[k + 2]);
                    a10 = Vector512.FusedMultiplyAdd(xb, d0, a10); a11 = Vector512.FusedMultiplyAdd(xb, d1, a11);
                    a12 = Vector512.FusedMultiplyAdd(xb, d2, a12); a13 = Vector512.FusedMultiplyAdd(xb, d3, a13);
                }
                if (TM.M > 2)
                {
                    xb = Vector512.Create(x2[k + 2]);
                    a20 = Vector512.FusedMultiplyAdd(xb, d0, a20); a21 = Vector512.FusedMultiplyAdd(xb, d1, a21);
                    a22 = Vector512.FusedMultiplyAdd(xb, d2, a22); a23 = Vector512.FusedMultiplyAdd(xb, d3, a23);
                }
                if (TM.M > 3)
                {
                    xb = Vector512.Create(x3[k + 2]);
                    a30 = Vector512.FusedMultiplyAdd(xb, d0, a30); a31 = Vector512.FusedMultiplyAdd(xb, d1, a31);
                    a32 = Vector512.FusedMultiplyAdd(xb, d2, a32); a33 = Vector512.FusedMultiplyAdd(xb, d3, a33);
                }
                // nibble 3: k + 3
                d0 = Nibble(table, v0, 12); d1 = Nibble(table, v1, 12);
                d2 = Nibble(table, v2, 12); d3 = Nibble(table, v3, 12);
                xb = Vector512.Create(x0[k + 3]);
                a00 = Vector512.FusedMultiplyAdd(xb, d0, a00); a01 = Vector512.FusedMultiplyAdd(xb, d1, a01);
                a02 = Vector512.FusedMultiplyAdd(xb, d2, a02); a03 = Vector512.FusedMultiplyAdd(xb, d3, a03);
                if (TM.M > 1)
                {
                    xb = Vector512.Create(x1[k + 3]);
                    a10 = Vector512.FusedMultiplyAdd(xb, d0, a10); a11 = Vector512.FusedMultiplyAdd(xb, d1, a11);
                    a12 = Vector512.FusedMultiplyAdd(xb, d2, a12); a13 = Vector512.FusedMultiplyAdd(xb, d3, a13);
                }
                if (TM.M > 2)
                {
                    xb = Vector512.Create(x2[k + 3]);
                    a20 = Vector512.FusedMultiplyAdd(xb, d0, a20); a21 = Vector512.FusedMultiplyAdd(xb, d1, a21);
                    a22 = Vector512.FusedMultiplyAdd(xb, d2, a22); a23 = Vector512.FusedMultiplyAdd(xb, d3, a23);
                }
                if (TM.M > 3)
                {
                    xb = Vector512.Create(x3[k + 3]);
                    a30 = Vector512.FusedMultiplyAdd(xb, d0, a30); a31 = Vector512.FusedMultiplyAdd(xb, d1, a31);
                    a32 = Vector512.FusedMultiplyAdd(xb, d2, a32); a33 = Vector512.FusedMultiplyAdd(xb, d3, a33);
                }
                // nibble 4: k + 4
                d0 = Nibble(table, v0, 16); d1 = Nibble(table, v1, 16);
                d2 = Nibble(table, v2, 16); d3 = Nibble(table, v3, 16);
                xb = Vector512.Create(x0[k + 4]);
                a00 = Vector512.FusedMultiplyAdd(xb, d0, a00); a01 = Vector512.FusedMultiplyAdd(xb, d1, a01);
                a02 = Vector512.FusedMultiplyAdd(xb, d2, a02); a03 = Vector512.FusedMultiplyAdd(xb, d3, a03);
                if (TM.M > 1)
                {
                    xb = Vector512.Create(x1[k + 4]);
                    a10 = Vector512.FusedMultiplyAdd(xb, d0, a10); a11 = Vector512.FusedMultiplyAdd(xb, d1, a11);
                    a12 = Vector512.FusedMultiplyAdd(xb, d2, a12); a13 = Vector512.FusedMultiplyAdd(xb, d3, a13);
                }
                if (TM.M > 2)
                {
                    xb = Vector512.Create(x2[k + 4]);
                    a20 = Vector512.FusedMultiplyAdd(xb, d0, a20); a21 = Vector512.FusedMultiplyAdd(xb, d1, a21);
                    a22 = Vector512.FusedMultiplyAdd(xb, d2, a22); a23 = Vector512.FusedMultiplyAdd(xb, d3, a23);
                }
                if (TM.M > 3)
                {
                    xb = Vector512.Create(x3[k + 4]);
                    a30 = Vector512.FusedMultiplyAdd(xb, d0, a30); a31 = Vector512.FusedMultiplyAdd(xb, d1, a31);
                    a32 = Vector512.FusedMultiplyAdd(xb, d2, a32); a33 = Vector512.FusedMultiplyAdd(xb, d3, a33);
                }
                // nibble 5: k + 5
                d0 = Nibble(table, v0, 20); d1 = Nibble(table, v1, 20);
                d2 = Nibble(table, v2, 20); d3 = Nibble(table, v3, 20);
                xb = Vector512.Create(x0[k + 5]);
                a00 = Vector512.FusedMultiplyAdd(xb, d0, a00); a01 = Vector512.FusedMultiplyAdd(xb, d1, a01);
                a02 = Vector512.FusedMultiplyAdd(xb, d2, a02); a03 = Vector512.FusedMultiplyAdd(xb, d3, a03);
                if (TM.M > 1)
                {
                    xb = Vector512.Create(x1[k + 5]);
                    a10 = Vector512.FusedMultiplyAdd(xb, d0, a10); a11 = Vector512.FusedMultiplyAdd(xb, d1, a11);
                    a12 = Vector512.FusedMultiplyAdd(xb, d2, a12); a13 = Vector512.FusedMultiplyAdd(xb, d3, a13);
                }
                if (TM.M > 2)
                {
                    xb = Vector512.Create(x2[k + 5]);
                    a20 = Vector512.FusedMultiplyAdd(xb, d0, a20); a21 = Vector512.FusedMultiplyAdd(xb, d1, a21);
                    a22 = Vector512.FusedMultiplyAdd(xb, d2, a22); a23 = Vector512.FusedMultiplyAdd(xb, d3, a23);
                }
                if (TM.M > 3)
                {
                    xb = Vector512.Create(x3[k + 5]);
                    a30 = Vector512.FusedMultiplyAdd(xb, d0, a30); a31 = Vector512.FusedMultiplyAdd(xb, d1, a31);
                    a32 = Vector512.FusedMultiplyAdd(xb, d2, a32); a33 = Vector512.FusedMultiplyAdd(xb, d3, a33);
                }
                // nibble 6: k + 6
                d0 = Nibble(table, v0, 24); d1 = Nibble(table, v1, 24);
                d2 = Nibble(table, v2, 24); d3 = Nibble(table, v3, 24);
                xb = Vector512.Create(x0[k + 6]);
                a00 = Vector512.FusedMultiplyAdd(xb, d0, a00); a01 = Vector512.FusedMultiplyAdd(xb, d1, a01);
                a02 = Vector512.FusedMultiplyAdd(xb, d2, a02); a03 = Vector512.FusedMultiplyAdd(xb, d3, a03);
                if (TM.M > 1)
                {
                    xb = Vector512.Create(x1[k + 6]);
                    a10 = Vector512.FusedMultiplyAdd(xb, d0, a10); a11 = Vector512.FusedMultiplyAdd(xb, d1, a11);
                    a12 = Vector512.FusedMultiplyAdd(xb, d2, a12); a13 = Vector512.FusedMultiplyAdd(xb, d3, a13);
                }
                if (TM.M > 2)
                {
                    xb = Vector512.Create(x2[k + 6]);
                    a20 = Vector512.FusedMultiplyAdd(xb, d0, a20); a21 = Vector512.FusedMultiplyAdd(xb, d1, a21);
                    a22 = Vector512.FusedMultiplyAdd(xb, d2, a22); a23 = Vector512.FusedMultiplyAdd(xb, d3, a23);
                }
                if (TM.M > 3)
                {
                    xb = Vector512.Create(x3[k + 6]);
                    a30 = Vector512.FusedMultiplyAdd(xb, d0, a30); a31 = Vector512.FusedMultiplyAdd(xb, d1, a31);
                    a32 = Vector512.FusedMultiplyAdd(xb, d2, a32); a33 = Vector512.FusedMultiplyAdd(xb, d3, a33);
                }
                // nibble 7: k + 7
                d0 = Nibble(table, v0, 28); d1 = Nibble(table, v1, 28);
                d2 = Nibble(table, v2, 28); d3 = Nibble(table, v3, 28);
                xb = Vector512.Create(x0[k + 7]);
                a00 = Vector512.FusedMultiplyAdd(xb, d0, a00); a01 = Vector512.FusedMultiplyAdd(xb, d1, a01);
                a02 = Vector512.FusedMultiplyAdd(xb, d2, a02); a03 = Vector512.FusedMultiplyAdd(xb, d3, a03);
                if (TM.M > 1)
                {
                    xb = Vector512.Create(x1[k + 7]);
                    a10 = Vector512.FusedMultiplyAdd(xb, d0, a10); a11 = Vector512.FusedMultiplyAdd(xb, d1, a11);
                    a12 = Vector512.FusedMultiplyAdd(xb, d2, a12); a13 = Vector512.FusedMultiplyAdd(xb, d3, a13);
                }
                if (TM.M > 2)
                {
                    xb = Vector512.Create(x2[k + 7]);
                    a20 = Vector512.FusedMultiplyAdd(xb, d0, a20); a21 = Vector512.FusedMultiplyAdd(xb, d1, a21);
                    a22 = Vector512.FusedMultiplyAdd(xb, d2, a22); a23 = Vector512.FusedMultiplyAdd(xb, d3, a23);
                }
                if (TM.M > 3)
                {
                    xb = Vector512.Create(x3[k + 7]);
                    a30 = Vector512.FusedMultiplyAdd(xb, d0, a30); a31 = Vector512.FusedMultiplyAdd(xb, d1, a31);
                    a32 = Vector512.FusedMultiplyAdd(xb, d2, a32); a33 = Vector512.FusedMultiplyAdd(xb, d3, a33);
                }
            }
            bool first = g == 0;
            // The group's scales s and centred offsets c = (8 − z)·s of the 4 blocks (shared by the tile's tokens).
            ushort* sg = s + 16 * (nint)g;
            byte* zg = z + 16 * (nint)g;
            Vector512<float> s0 = Scales(sg), s1 = Scales(sg + sbs), s2 = Scales(sg + 2 * sbs), s3 = Scales(sg + 3 * sbs);
            Vector512<float> c0 = Offsets(zg, s0), c1 = Offsets(zg + sbs, s1), c2 = Offsets(zg + 2 * sbs, s2), c3 = Offsets(zg + 3 * sbs, s3);
            float* xs = xsum + g;
            Combine4(y, a00, a01, a02, a03, s0, s1, s2, s3, c0, c1, c2, c3, xs[0], first);
            if (TM.M > 1) Combine4(y + ldy, a10, a11, a12, a13, s0, s1, s2, s3, c0, c1, c2, c3, xs[ldxs], first);
            if (TM.M > 2) Combine4(y + 2 * ldy, a20, a21, a22, a23, s0, s1, s2, s3, c0, c1, c2, c3, xs[2 * ldxs], first);
            if (TM.M > 3) Combine4(y + 3 * ldy, a30, a31, a32, a33, s0, s1, s2, s3, c0, c1, c2, c3, xs[3 * ldxs], first);
        }
    }

    /// <summary>
    /// INT8 for TM tokens (1–4; x[t, k] at x + t·ldx + k) and the unit's 64 outputs (y[t, j] at y + t·ldy + j), s the unit's 64
    /// scales. Each 16-weight vector is converted once and used by TM FMAs; <paramref name="prefetch"/> as in Int4Tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int8Tile<TM>(float* x, nint ldx, byte* w, nint bs, nint k, float* s, float* y, nint ldy, nint prefetch)
        where TM : struct, ITokenCount
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default; // a{token}{block}
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        byte* w0 = w, w1 = w + bs, w2 = w + 2 * bs, w3 = w + 3 * bs;
        float* x0 = x, x1 = x + ldx, x2 = x + 2 * ldx, x3 = x + 3 * ldx;
        for (nint i = 0; i < k; i++)
        {
            // Hot spot (small-batch decode): 4 × 16 bytes at k → 4 vectors, each feeding TM FMAs.
            nint o = 16 * i;
            if (prefetch > 0 && (i & 3) == 0)
            {
                Sse.Prefetch0(w0 + o + prefetch); Sse.Prefetch0(w1 + o + prefetch);
                Sse.Prefetch0(w2 + o + prefetch); Sse.Prefetch0(w3 + o + prefetch);
            }
            Vector512<float> d0 = Bytes(w0 + o), d1 = Bytes(w1 + o), d2 = Bytes(w2 + o), d3 = Bytes(w3 + o);
            Vector512<float> xb = Vector512.Create(x0[i]);
            a00 = Vector512.FusedMultiplyAdd(xb, d0, a00); a01 = Vector512.FusedMultiplyAdd(xb, d1, a01);
            a02 = Vector512.FusedMultiplyAdd(xb, d2, a02); a03 = Vector512.FusedMultiplyAdd(xb, d3, a03);
            if (TM.M > 1)
            {
                xb = Vector512.Create(x1[i]);
                a10 = Vector512.FusedMultiplyAdd(xb, d0, a10); a11 = Vector512.FusedMultiplyAdd(xb, d1, a11);
                a12 = Vector512.FusedMultiplyAdd(xb, d2, a12); a13 = Vector512.FusedMultiplyAdd(xb, d3, a13);
            }
            if (TM.M > 2)
            {
                xb = Vector512.Create(x2[i]);
                a20 = Vector512.FusedMultiplyAdd(xb, d0, a20); a21 = Vector512.FusedMultiplyAdd(xb, d1, a21);
                a22 = Vector512.FusedMultiplyAdd(xb, d2, a22); a23 = Vector512.FusedMultiplyAdd(xb, d3, a23);
            }
            if (TM.M > 3)
            {
                xb = Vector512.Create(x3[i]);
                a30 = Vector512.FusedMultiplyAdd(xb, d0, a30); a31 = Vector512.FusedMultiplyAdd(xb, d1, a31);
                a32 = Vector512.FusedMultiplyAdd(xb, d2, a32); a33 = Vector512.FusedMultiplyAdd(xb, d3, a33);
            }
        }
        Scale4(y, a00, a01, a02, a03, s);
        if (TM.M > 1) Scale4(y + ldy, a10, a11, a12, a13, s);
        if (TM.M > 2) Scale4(y + 2 * ldy, a20, a21, a22, a23, s);
        if (TM.M > 3) Scale4(y + 3 * ldy, a30, a31, a32, a33, s);
    }

    // One token's 64 outputs after a group: y = fma(a, s, y or +0); y = fma(X, c, y).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Combine4(float* y, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
        Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3,
        Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3, float xsum, bool first)
    {
        Vector512<float> xs = Vector512.Create(xsum);
        Vector512<float> y0 = first ? default : Vector512.Load(y), y1 = first ? default : Vector512.Load(y + 16);
        Vector512<float> y2 = first ? default : Vector512.Load(y + 32), y3 = first ? default : Vector512.Load(y + 48);
        Vector512.FusedMultiplyAdd(xs, c0, Vector512.FusedMultiplyAdd(a0, s0, y0)).Store(y);
        Vector512.FusedMultiplyAdd(xs, c1, Vector512.FusedMultiplyAdd(a1, s1, y1)).Store(y + 16);
        Vector512.FusedMultiplyAdd(xs, c2, Vector512.FusedMultiplyAdd(a2, s2, y2)).Store(y + 32);
        Vector512.FusedMultiplyAdd(xs, c3, Vector512.FusedMultiplyAdd(a3, s3, y3)).Store(y + 48);
    }

    /// <summary>16 F16 scales widened exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Scales(ushort* s) => F16Load.Load16((byte*)s);

    /// <summary>Centred offsets (8 − z)·s for 16 zero points (bytes) and their scales: one rounding, as QuantizedWeight defines.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Offsets(byte* z, Vector512<float> s) =>
        (Vector512.Create((float)QuantizedWeight.Int4Center) - Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load(z)))) * s;

    // One token's 64 outputs at the end of K: y = a·s.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scale4(float* y, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3, float* s)
    {
        (a0 * Vector512.Load(s)).Store(y);
        (a1 * Vector512.Load(s + 16)).Store(y + 16);
        (a2 * Vector512.Load(s + 32)).Store(y + 32);
        (a3 * Vector512.Load(s + 48)).Store(y + 48);
    }

    /// <summary>Nibble i of every lane (shift = 4i) as the float q − 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Nibble(Vector512<float> table, Vector512<int> v, [System.Diagnostics.CodeAnalysis.ConstantExpected] byte shift) =>
        Avx512F.PermuteVar16x32(table, Avx512F.ShiftRightLogical(v, shift));

    /// <summary>16 signed bytes as floats (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Bytes(byte* p) =>
        Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.Load((sbyte*)p)));
}
