// Single-token decode over quantized weights (QuantizedWeight's interleaved layout): 4 blocks = 64 outputs per call, Vector512,
// each 16-lane weight vector turned into floats in registers and used by one FMA — the weights stream from memory once.
// Invariant: every lane computes exactly QuantizedMatMulReference.RunExact's chain (integer weights as exact floats, scales applied
// after the k sums), the same operations the panel path performs, so one token's outputs equal a batched call's bit for bit.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Fused dequantize-and-multiply kernels for one token (AVX-512 only).</summary>
internal static unsafe class QuantizedDecodeKernel
{
    /// <summary>Float value of each centred nibble: table[q] = q − 8 (vpermps reads only the low 4 bits of each index).</summary>
    public static Vector512<float> CenteredNibbles =>
        Vector512.Create(-8f, -7f, -6f, -5f, -4f, -3f, -2f, -1f, 0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f);

    /// <summary>
    /// y[0..64) = x · W[unit]ᵀ for INT4 groups. Block b's packed words start at w + b·bs (8 k per 64 bytes); its scales and centred
    /// offsets for group g at s + b·sbs + 16·g and c + b·sbs + 16·g; xsum[g] = Σ x over group g (in order).
    /// </summary>
    /// <param name="x">[K] activations.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int4x4(float* x, byte* w, nint bs, float* s, float* c, nint sbs, float* xsum, int numGroups, int groupSize, float* y)
    {
        Vector512<float> table = CenteredNibbles;
        Vector512<float> y0 = default, y1 = default, y2 = default, y3 = default;
        byte* w0 = w, w1 = w + bs, w2 = w + 2 * bs, w3 = w + 3 * bs;
        for (int g = 0; g < numGroups; g++)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            nint kEnd = (nint)(g + 1) * groupSize;
            for (nint k = (nint)g * groupSize; k < kEnd; k += 8)
            {
                // Hot spot (single-sequence decode): 4 × 64 bytes → 512 weights; per 16 weights one shift, one vpermps, one FMA.
                nint o = 8 * k;
                Vector512<int> v0 = Vector512.Load((int*)(w0 + o)), v1 = Vector512.Load((int*)(w1 + o));
                Vector512<int> v2 = Vector512.Load((int*)(w2 + o)), v3 = Vector512.Load((int*)(w3 + o));
                float* xk = x + k;
                Vector512<float> xb = Vector512.Create(xk[0]);
                a0 = Vector512.FusedMultiplyAdd(xb, Avx512F.PermuteVar16x32(table, v0), a0);
                a1 = Vector512.FusedMultiplyAdd(xb, Avx512F.PermuteVar16x32(table, v1), a1);
                a2 = Vector512.FusedMultiplyAdd(xb, Avx512F.PermuteVar16x32(table, v2), a2);
                a3 = Vector512.FusedMultiplyAdd(xb, Avx512F.PermuteVar16x32(table, v3), a3);
                xb = Vector512.Create(xk[1]);
                a0 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v0, 4), a0);
                a1 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v1, 4), a1);
                a2 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v2, 4), a2);
                a3 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v3, 4), a3);
                xb = Vector512.Create(xk[2]);
                a0 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v0, 8), a0);
                a1 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v1, 8), a1);
                a2 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v2, 8), a2);
                a3 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v3, 8), a3);
                xb = Vector512.Create(xk[3]);
                a0 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v0, 12), a0);
                a1 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v1, 12), a1);
                a2 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v2, 12), a2);
                a3 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v3, 12), a3);
                xb = Vector512.Create(xk[4]);
                a0 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v0, 16), a0);
                a1 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v1, 16), a1);
                a2 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v2, 16), a2);
                a3 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v3, 16), a3);
                xb = Vector512.Create(xk[5]);
                a0 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v0, 20), a0);
                a1 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v1, 20), a1);
                a2 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v2, 20), a2);
                a3 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v3, 20), a3);
                xb = Vector512.Create(xk[6]);
                a0 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v0, 24), a0);
                a1 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v1, 24), a1);
                a2 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v2, 24), a2);
                a3 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v3, 24), a3);
                xb = Vector512.Create(xk[7]);
                a0 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v0, 28), a0);
                a1 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v1, 28), a1);
                a2 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v2, 28), a2);
                a3 = Vector512.FusedMultiplyAdd(xb, Nibble(table, v3, 28), a3);
            }
            // y = fma(a, s_g, y); y = fma(X_g, c_g, y) — QuantizedPanelKernel.CombineGroup's order.
            nint gv = 16 * (nint)g;
            Vector512<float> xs = Vector512.Create(xsum[g]);
            y0 = Vector512.FusedMultiplyAdd(xs, Vector512.Load(c + gv), Vector512.FusedMultiplyAdd(a0, Vector512.Load(s + gv), y0));
            y1 = Vector512.FusedMultiplyAdd(xs, Vector512.Load(c + sbs + gv), Vector512.FusedMultiplyAdd(a1, Vector512.Load(s + sbs + gv), y1));
            y2 = Vector512.FusedMultiplyAdd(xs, Vector512.Load(c + 2 * sbs + gv), Vector512.FusedMultiplyAdd(a2, Vector512.Load(s + 2 * sbs + gv), y2));
            y3 = Vector512.FusedMultiplyAdd(xs, Vector512.Load(c + 3 * sbs + gv), Vector512.FusedMultiplyAdd(a3, Vector512.Load(s + 3 * sbs + gv), y3));
        }
        y0.Store(y); y1.Store(y + 16); y2.Store(y + 32); y3.Store(y + 48);
    }

    /// <summary>
    /// y[0..64) = x · W[unit]ᵀ for INT8 per channel: block b's bytes at w + b·bs (16 per k), its 16 scales at s + 16·b.
    /// </summary>
    /// <param name="x">[K] activations.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int8x4(float* x, byte* w, nint bs, nint k, float* s, float* y)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        byte* w0 = w, w1 = w + bs, w2 = w + 2 * bs, w3 = w + 3 * bs;
        for (nint i = 0; i < k; i += 2)
        {
            // Hot spot (single-sequence decode): 4 × 16 bytes per k; per 16 weights one vpmovsxbd, one convert, one FMA.
            nint o = 16 * i;
            Vector512<float> xb = Vector512.Create(x[i]);
            a0 = Vector512.FusedMultiplyAdd(xb, Bytes(w0 + o), a0);
            a1 = Vector512.FusedMultiplyAdd(xb, Bytes(w1 + o), a1);
            a2 = Vector512.FusedMultiplyAdd(xb, Bytes(w2 + o), a2);
            a3 = Vector512.FusedMultiplyAdd(xb, Bytes(w3 + o), a3);
            xb = Vector512.Create(x[i + 1]);
            a0 = Vector512.FusedMultiplyAdd(xb, Bytes(w0 + o + 16), a0);
            a1 = Vector512.FusedMultiplyAdd(xb, Bytes(w1 + o + 16), a1);
            a2 = Vector512.FusedMultiplyAdd(xb, Bytes(w2 + o + 16), a2);
            a3 = Vector512.FusedMultiplyAdd(xb, Bytes(w3 + o + 16), a3);
        }
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
