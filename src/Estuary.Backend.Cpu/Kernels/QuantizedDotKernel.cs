// Integer dot products over QuantizedWeight's layout for one token and a pair of 16-row blocks (32 outputs): unsigned weight bytes
// (INT8 q + 128, or INT4 nibbles) times the activation's signed hi/lo bytes (ActivationQuantizer), summed exactly in 32-bit lanes by
// AVX-VNNI vpdpbusd (4 products per lane per instruction), then per activation block turned into floats and scaled.
// Invariant: per output the block sums D are exact integers, so the VNNI and scalar tiles give the same D, and the float steps
// (one convert, one FMA per block; INT8: one final multiply) are per lane: every path gives QuantizedMatMulReference.RunExact's bits.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Estuary.Tensors.Quantization;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>
/// One token × 32 outputs (blocks w and w + bs) over activation blocks [b0, b1) of <c>B</c> columns. Per block, y = fma((float)D,
/// f, y_prev) with y_prev = +0 for block 0: INT8 — D = Σ q·q_x, f = sx; INT4 — D = Σ q·q_x − z·Σ q_x, f = s_g·sx.
/// y holds the pair's 32 outputs of this token (16 per block); hi/lo/sx/sums are the token's rows of the quantizer's output.
/// </summary>
internal static unsafe class QuantizedDotKernel
{
    /// <summary>Rows per tile: two interleaved blocks.</summary>
    public const int PairRows = 2 * QuantizedWeight.BlockRows;

    /// <summary>Whether this machine runs the VNNI tiles.</summary>
    public static bool VnniSupported => AvxVnni.IsSupported && Avx2.IsSupported && Fma.IsSupported;

    /// <summary>
    /// INT8 VNNI tile. Per 4 columns each block holds 64 bytes (2 × 8 lanes × 4 bytes); <paramref name="prefetch"/> &gt; 0 prefetches
    /// both blocks' bytes that far ahead (the first token of a slice streams them from memory).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int8Vnni(sbyte* hi, sbyte* lo, float* sx, int* sums, int b0, int b1, int blockSize, byte* w, nint bs, float* y, nint prefetch)
    {
        byte* w0 = w, w1 = w + bs;
        for (int b = b0; b < b1; b++)
        {
            Vector256<int> h00 = default, h01 = default, h10 = default, h11 = default; // h{block}{half}: Σ u·hi
            Vector256<int> l00 = default, l01 = default, l10 = default, l11 = default; // Σ u·lo
            nint kEnd = (nint)(b + 1) * blockSize;
            for (nint k = (nint)b * blockSize; k < kEnd; k += 4)
            {
                // Hot spot: 2 blocks × 64 bytes = 4 columns × 32 rows; 8 vpdpbusd.
                nint o = 16 * k;
                if (prefetch > 0) { Sse.Prefetch0(w0 + o + prefetch); Sse.Prefetch0(w1 + o + prefetch); }
                Vector256<sbyte> bh = Vector256.Create(*(int*)(hi + k)).AsSByte(), bl = Vector256.Create(*(int*)(lo + k)).AsSByte();
                Vector256<byte> a = Vector256.Load(w0 + o), c = Vector256.Load(w0 + o + 32);
                h00 = AvxVnni.MultiplyWideningAndAdd(h00, a, bh); l00 = AvxVnni.MultiplyWideningAndAdd(l00, a, bl);
                h01 = AvxVnni.MultiplyWideningAndAdd(h01, c, bh); l01 = AvxVnni.MultiplyWideningAndAdd(l01, c, bl);
                a = Vector256.Load(w1 + o); c = Vector256.Load(w1 + o + 32);
                h10 = AvxVnni.MultiplyWideningAndAdd(h10, a, bh); l10 = AvxVnni.MultiplyWideningAndAdd(l10, a, bl);
                h11 = AvxVnni.MultiplyWideningAndAdd(h11, c, bh); l11 = AvxVnni.MultiplyWideningAndAdd(l11, c, bl);
            }
            // Σ (q + 128)·q_x = D + 128·Σ q_x.
            Vector256<int> bias = Vector256.Create(QuantizedWeight.Int8Offset * sums[b]);
            Vector256<float> f = Vector256.Create(sx[b]);
            bool first = b == 0;
            Flush(y, Combine(h00, l00) - bias, f, first);
            Flush(y + 8, Combine(h01, l01) - bias, f, first);
            Flush(y + 16, Combine(h10, l10) - bias, f, first);
            Flush(y + 24, Combine(h11, l11) - bias, f, first);
        }
    }

    /// <summary>
    /// INT4 VNNI tile. Per 8 columns each block holds 64 bytes (16 words of 8 nibbles); the low nibbles of each byte are the even
    /// columns, the high ones the odd columns, matching the quantizer's nibble order. Scales and zero points of (block, group) at
    /// s/z + block·sbs + 16·g.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int4Vnni(sbyte* hi, sbyte* lo, float* sx, int* sums, int b0, int b1, int blockSize, int groupSize,
        byte* w, nint bs, float* s, byte* z, nint sbs, float* y, nint prefetch)
    {
        byte* w0 = w, w1 = w + bs;
        Vector256<byte> mask = Vector256.Create((byte)15);
        for (int b = b0; b < b1; b++)
        {
            Vector256<int> h00 = default, h01 = default, h10 = default, h11 = default; // h{block}{half}: Σ u·hi
            Vector256<int> l00 = default, l01 = default, l10 = default, l11 = default; // Σ u·lo
            nint kEnd = (nint)(b + 1) * blockSize;
            for (nint k = (nint)b * blockSize; k < kEnd; k += 8)
            {
                // Hot spot: 2 blocks × 64 bytes = 8 columns × 32 rows; per 32 bytes one load, 3 ALU ops, 4 vpdpbusd.
                nint o = 8 * k;
                if (prefetch > 0) { Sse.Prefetch0(w0 + o + prefetch); Sse.Prefetch0(w1 + o + prefetch); }
                Vector256<sbyte> he = Vector256.Create(*(int*)(hi + k)).AsSByte(), ho = Vector256.Create(*(int*)(hi + k + 4)).AsSByte();
                Vector256<sbyte> le = Vector256.Create(*(int*)(lo + k)).AsSByte(), lodd = Vector256.Create(*(int*)(lo + k + 4)).AsSByte();
                Vector256<byte> v = Vector256.Load(w0 + o);
                Vector256<byte> even = v & mask, odd = Avx2.ShiftRightLogical(v.AsUInt32(), 4).AsByte() & mask;
                h00 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(h00, even, he), odd, ho);
                l00 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(l00, even, le), odd, lodd);
                v = Vector256.Load(w0 + o + 32);
                even = v & mask; odd = Avx2.ShiftRightLogical(v.AsUInt32(), 4).AsByte() & mask;
                h01 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(h01, even, he), odd, ho);
                l01 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(l01, even, le), odd, lodd);
                v = Vector256.Load(w1 + o);
                even = v & mask; odd = Avx2.ShiftRightLogical(v.AsUInt32(), 4).AsByte() & mask;
                h10 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(h10, even, he), odd, ho);
                l10 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(l10, even, le), odd, lodd);
                v = Vector256.Load(w1 + o + 32);
                even = v & mask; odd = Avx2.ShiftRightLogical(v.AsUInt32(), 4).AsByte() & mask;
                h11 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(h11, even, he), odd, ho);
                l11 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(l11, even, le), odd, lodd);
            }
            nint g = (nint)b * blockSize / groupSize;
            Vector256<int> sum = Vector256.Create(sums[b]);
            Vector256<float> f = Vector256.Create(sx[b]);
            bool first = b == 0;
            float* s0 = s + 16 * g, s1 = s0 + sbs;
            byte* z0 = z + 16 * g, z1 = z0 + sbs;
            Flush(y, Combine(h00, l00) - Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(z0), sum), Vector256.Load(s0) * f, first);
            Flush(y + 8, Combine(h01, l01) - Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(z0 + 8), sum), Vector256.Load(s0 + 8) * f, first);
            Flush(y + 16, Combine(h10, l10) - Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(z1), sum), Vector256.Load(s1) * f, first);
            Flush(y + 24, Combine(h11, l11) - Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(z1 + 8), sum), Vector256.Load(s1 + 8) * f, first);
        }
    }

    /// <summary>Scalar twin of both tiles (machines without AVX-VNNI, and the Scalar width): the same D and float steps.</summary>
    public static void Scalar(QuantScheme scheme, sbyte* hi, sbyte* lo, float* sx, int* sums, int b0, int b1, int blockSize, int groupSize,
        byte* w, nint bs, float* s, byte* z, nint sbs, float* y)
    {
        bool int4 = scheme == QuantScheme.Int4Group;
        for (int b = b0; b < b1; b++)
        {
            nint g = (nint)b * blockSize / groupSize;
            for (int r = 0; r < PairRows; r++)
            {
                byte* wb = w + r / 16 * bs;
                int lane = r % 16;
                long d = 0;
                for (nint k = (nint)b * blockSize; k < (nint)(b + 1) * blockSize; k++)
                {
                    // Stored position p of column k in the activation planes (nibble order for INT4).
                    nint p = int4 ? (k & ~7) + (k % 8 % 2 == 0 ? k % 8 / 2 : 4 + k % 8 / 2) : k;
                    int qx = 256 * hi[p] + lo[p];
                    int qw = int4
                        ? (int)((((uint*)(wb + 8 * (k & ~7)))[lane] >> (int)(4 * (k % 8))) & 15)
                        : wb[64 * (k / 4) + 4 * lane + k % 4] - QuantizedWeight.Int8Offset;
                    d += (long)qw * qx;
                }
                float f = sx[b];
                if (int4)
                {
                    d -= (long)z[r / 16 * sbs + 16 * g + lane] * sums[b];
                    f = s[r / 16 * sbs + 16 * g + lane] * f;
                }
                y[r] = MathF.FusedMultiplyAdd((float)(int)d, f, b == 0 ? 0f : y[r]);
            }
        }
    }

    // 256·Σ u·hi + Σ u·lo (no overflow: |Σ u·hi| ≤ 255·127·128 per block of at most 128 columns).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Combine(Vector256<int> h, Vector256<int> l) => Avx2.ShiftLeftLogical(h, 8) + l;

    // y = fma((float)d, f, first ? +0 : y) for 8 outputs.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Flush(float* y, Vector256<int> d, Vector256<float> f, bool first) =>
        Fma.MultiplyAdd(Avx.ConvertToVector256Single(d), f, first ? Vector256<float>.Zero : Vector256.Load(y)).Store(y);
}
