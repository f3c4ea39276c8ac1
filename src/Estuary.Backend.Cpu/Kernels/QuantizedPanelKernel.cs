// The batched path over quantized weights: a K-slice of a 4-block unit is turned into an F32 panel of its integers (q for INT8,
// q − 8 for INT4, exact floats) in PackedMatMulKernel's layout, which the F32 outer-product tiles multiply; the scales are applied
// afterwards — per group (INT4) or once at the end (INT8). Also the per-group activation sums the INT4 offsets multiply.
// Invariant: the panel values, the combine and the final scaling are the same operations as QuantizedDecodeKernel and
// QuantizedMatMulReference.RunExact, at every vector width (they are per-lane), so every path gives the same bits.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Estuary.Tensors.Quantization;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Dequantize-to-panel, group combine and scaling helpers of the quantized matmul.</summary>
internal static unsafe class QuantizedPanelKernel
{
    /// <summary>Blocks per unit (64 outputs).</summary>
    public const int UnitBlocks = QuantizedWeight.UnitRows / QuantizedWeight.BlockRows;

    /// <summary>
    /// panel[b·kc·16 + 16·(k − k0) + j] = integer of row 16b+j at k, for the unit's 4 blocks (block b at w + b·bs) and k in
    /// [k0, k0 + kc); k0 and kc are multiples of 8.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dequantize(QuantScheme scheme, byte* w, nint bs, int k0, int kc, float* panel, SimdWidth width)
    {
        for (int b = 0; b < UnitBlocks; b++)
        {
            byte* wb = w + b * bs;
            float* p = panel + (nint)b * kc * 16;
            if (scheme == QuantScheme.Int8PerChannel) Int8Slice(wb, k0, kc, p, width);
            else Int4Slice(wb, k0, kc, p, width);
        }
    }

    // One INT8 block: 16 signed bytes per k → 16 floats.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Int8Slice(byte* w, int k0, int kc, float* p, SimdWidth width)
    {
        sbyte* src = (sbyte*)w + 16 * (nint)k0;
        nint n = 16 * (nint)kc;
        switch (width)
        {
            case SimdWidth.Vector512:
                for (nint i = 0; i < n; i += 16) QuantizedDecodeKernel.Bytes((byte*)(src + i)).Store(p + i);
                break;
            case SimdWidth.Vector256:
                for (nint i = 0; i < n; i += 8) Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(src + i)).Store(p + i);
                break;
            default:
                for (nint i = 0; i < n; i++) p[i] = src[i];
                break;
        }
    }

    // One INT4 block: per 8 k, 16 words whose nibble i is k0 + 8c + i → 8 × 16 floats q − 8.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Int4Slice(byte* w, int k0, int kc, float* p, SimdWidth width)
    {
        uint* src = (uint*)(w + 8 * (nint)k0);
        switch (width)
        {
            case SimdWidth.Vector512:
            {
                Vector512<float> table = QuantizedDecodeKernel.CenteredNibbles;
                for (nint c = 0; c < kc / 8; c++, p += 128)
                {
                    Vector512<int> v = Vector512.Load((int*)(src + 16 * c));
                    Avx512F.PermuteVar16x32(table, v).Store(p);
                    QuantizedDecodeKernel.Nibble(table, v, 4).Store(p + 16);
                    QuantizedDecodeKernel.Nibble(table, v, 8).Store(p + 32);
                    QuantizedDecodeKernel.Nibble(table, v, 12).Store(p + 48);
                    QuantizedDecodeKernel.Nibble(table, v, 16).Store(p + 64);
                    QuantizedDecodeKernel.Nibble(table, v, 20).Store(p + 80);
                    QuantizedDecodeKernel.Nibble(table, v, 24).Store(p + 96);
                    QuantizedDecodeKernel.Nibble(table, v, 28).Store(p + 112);
                }
                break;
            }
            case SimdWidth.Vector256:
            {
                Vector256<int> mask = Vector256.Create(15);
                Vector256<float> center = Vector256.Create((float)QuantizedWeight.Int4Center);
                for (nint c = 0; c < kc / 8; c++, p += 128)
                {
                    Vector256<int> lo = Vector256.Load((int*)(src + 16 * c)), hi = Vector256.Load((int*)(src + 16 * c + 8));
                    for (int i = 0; i < 8; i++)
                    {
                        // (q & 15) − 8 is exact in F32: the same float the Vector512 table lookup gives.
                        Avx.Subtract(Avx.ConvertToVector256Single(Avx2.ShiftRightLogicalVariable(lo, Vector256.Create((uint)(4 * i))) & mask), center).Store(p + 16 * i);
                        Avx.Subtract(Avx.ConvertToVector256Single(Avx2.ShiftRightLogicalVariable(hi, Vector256.Create((uint)(4 * i))) & mask), center).Store(p + 16 * i + 8);
                    }
                }
                break;
            }
            default:
                for (nint c = 0; c < kc / 8; c++, p += 128)
                    for (int i = 0; i < 8; i++)
                        for (int j = 0; j < 16; j++)
                            p[16 * i + j] = (int)((src[16 * c + j] >> (4 * i)) & 15) - QuantizedWeight.Int4Center;
                break;
        }
    }

    /// <summary>
    /// INT4 group combine for tokens [0, tokens) and the unit's 64 outputs: y = fma(a, s, y_prev); y = fma(X, c, y), where y_prev is
    /// +0 for the first group and c = (8 − z)·s. a[t, j] at a + t·lda + j, y at y + t·ldy + j; the F16 scale and zero point of
    /// output j at s + b·sbs + (j mod 16) and z + b·sbs + (j mod 16) for block b = j / 16; X[t] at xsum + t·ldx.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CombineGroup(float* a, nint lda, float* y, nint ldy, int tokens, ushort* s, byte* z, nint sbs, float* xsum, nint ldx,
        bool first, SimdWidth width)
    {
        for (int b = 0; b < UnitBlocks; b++)
        {
            ushort* sb = s + b * sbs;
            byte* zb = z + b * sbs;
            if (width == SimdWidth.Vector512)
            {
                Vector512<float> sv = QuantizedDecodeKernel.Scales(sb), cv = QuantizedDecodeKernel.Offsets(zb, sv);
                for (int t = 0; t < tokens; t++)
                {
                    float* yb = y + t * ldy + 16 * b;
                    Vector512<float> prev = first ? Vector512<float>.Zero : Vector512.Load(yb);
                    Vector512<float> v = Vector512.FusedMultiplyAdd(Vector512.Load(a + t * lda + 16 * b), sv, prev);
                    Vector512.FusedMultiplyAdd(Vector512.Create(xsum[t * ldx]), cv, v).Store(yb);
                }
                continue;
            }
            for (int j = 0; j < 16; j++)
            {
                float sj = (float)BitConverter.UInt16BitsToHalf(sb[j]);
                float cj = (QuantizedWeight.Int4Center - zb[j]) * sj;
                for (int t = 0; t < tokens; t++)
                {
                    float* yj = y + t * ldy + 16 * b + j;
                    float v = MathF.FusedMultiplyAdd(a[t * lda + 16 * b + j], sj, first ? 0f : *yj);
                    *yj = MathF.FusedMultiplyAdd(xsum[t * ldx], cj, v);
                }
            }
        }
    }

    /// <summary>INT8 final step: y[t, j] = a[t, j] · s[j] in place for the unit's 64 outputs (s contiguous, one per output).</summary>
    public static void ScaleRows(float* y, nint ldy, int tokens, float* s)
    {
        for (int t = 0; t < tokens; t++)
        {
            float* yt = y + t * ldy;
            for (int j = 0; j < QuantizedWeight.UnitRows; j++) yt[j] *= s[j];
        }
    }

    /// <summary>xsum[t·groups + g] = Σ_{k∈g} x[t, k] in k order from +0 (independent chains across groups run side by side).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GroupSums(float* x, int tokens, int k, int groupSize, float* xsum)
    {
        int groups = k / groupSize;
        for (int t = 0; t < tokens; t++)
        {
            float* xt = x + (nint)t * k, st = xsum + (nint)t * groups;
            for (int g = 0; g < groups; g++) st[g] = 0f;
            for (int i = 0; i < groupSize; i++)
                for (int g = 0; g < groups; g++) st[g] += xt[g * groupSize + i];
        }
    }
}
