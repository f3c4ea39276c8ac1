// Integer dot products over QuantizedWeight's layout for one token and a unit of four 16-row blocks (64 outputs): unsigned weight bytes
// (INT8 q + 128, or INT4 nibbles) times the activation's signed hi/lo bytes (ActivationQuantizer), summed exactly in 32-bit lanes by
// AVX-VNNI vpdpbusd (4 products per lane per instruction), then per activation block turned into floats and scaled.
// Invariant: per output the block sums D are exact integers, so the VNNI and scalar tiles give the same D, and the float steps
// (one convert, one FMA per block; INT8: one final multiply) are per lane: every path gives QuantizedMatMulReference.RunExact's bits.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Estuary.Tensors.Quantization;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Which implementation of the quantized tiles runs.</summary>
internal enum QuantizedTiles
{
    /// <summary>Plain scalar loops.</summary>
    Scalar,
    /// <summary>AVX2 vpmaddubsw/vpmaddwd (two blocks per call).</summary>
    Avx2,
    /// <summary>AVX-VNNI vpdpbusd (four blocks per call).</summary>
    Vnni,
}

/// <summary>
/// One token × 64 outputs (blocks w + i·bs, i = 0..3) over activation blocks [b0, b1) of <c>B</c> columns. Per block, y = fma((float)D,
/// f, y_prev) with y_prev = +0 for block 0: INT8 — D = Σ q·q_x, f = sx; INT4 — D = Σ q·q_x − z·Σ q_x, f = s_g·sx.
/// y holds the unit's 64 outputs of this token (16 per block); hi/lo/sx/sums are the token's rows of the quantizer's output.
/// </summary>
internal static unsafe class QuantizedDotKernel
{
    /// <summary>Rows per tile: four interleaved blocks (QuantizedWeight's unit).</summary>
    public const int TileRows = QuantizedWeight.UnitRows;

    // GF2P8AFFINEQB matrix: output bit i of each byte is input bit i + 4 for i < 4 (row of output bit i in byte 7 − i), else 0.
    private const ulong HighNibbleDown = 0x10_20_40_80_00_00_00_00;

    /// <summary>
    /// The tiles a call at <paramref name="width"/> runs: Scalar → scalar; otherwise AVX-VNNI where the CPU has it (Sapphire Rapids,
    /// Alder Lake, Zen 5 and later), else the AVX2 integer multiply-add emulation. All give the same bits.
    /// </summary>
    public static QuantizedTiles TilesFor(SimdWidth width) => width switch
    {
        SimdWidth.Scalar => QuantizedTiles.Scalar,
        _ when !(Avx2.IsSupported && Fma.IsSupported) => QuantizedTiles.Scalar,
        _ when AvxVnni.IsSupported && !VnniDisabled => QuantizedTiles.Vnni,
        _ => QuantizedTiles.Avx2,
    };

    /// <summary>The tiles this machine can run (for tests that compare them).</summary>
    public static IEnumerable<QuantizedTiles> Available()
    {
        yield return QuantizedTiles.Scalar;
        if (Avx2.IsSupported && Fma.IsSupported) yield return QuantizedTiles.Avx2;
        if (Avx2.IsSupported && Fma.IsSupported && AvxVnni.IsSupported) yield return QuantizedTiles.Vnni;
    }

    // ESTUARY_NO_VNNI=1 runs the AVX2 tiles on a VNNI machine, to measure what machines without AVX-VNNI get.
    private static readonly bool VnniDisabled = Environment.GetEnvironmentVariable("ESTUARY_NO_VNNI") == "1";

    /// <summary>
    /// INT8 VNNI tile. Per 4 columns each block holds 64 bytes (2 × 8 lanes × 4 bytes); <paramref name="prefetch"/> &gt; 0 prefetches
    /// the four blocks' bytes that far ahead (the first token of a slice streams them from memory).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int8Vnni(sbyte* hi, sbyte* lo, float* sx, int* sums, int b0, int b1, int blockSize, byte* w, nint bs, float* y, nint prefetch)
    {
        byte* w0 = w, w1 = w + bs, w2 = w + 2 * bs, w3 = w + 3 * bs;
        for (int b = b0; b < b1; b++)
        {
            Vector256<int> h00 = default, h01 = default, h10 = default, h11 = default; // h{block}{half}: Σ u·hi
            Vector256<int> h20 = default, h21 = default, h30 = default, h31 = default;
            Vector256<int> l00 = default, l01 = default, l10 = default, l11 = default; // Σ u·lo
            Vector256<int> l20 = default, l21 = default, l30 = default, l31 = default;
            nint kEnd = (nint)(b + 1) * blockSize;
            for (nint k = (nint)b * blockSize; k < kEnd; k += 4)
            {
                // Hot spot: 4 blocks × 64 bytes = 4 columns × 64 rows; 16 vpdpbusd (EVEX-encoded where AVX-512 VNNI gives 32 registers).
                nint o = 16 * k;
                if (prefetch > 0) Prefetch4(w0, w1, w2, w3, o + prefetch);
                Vector256<sbyte> bh = Vector256.Create(*(int*)(hi + k)).AsSByte(), bl = Vector256.Create(*(int*)(lo + k)).AsSByte();
                Vector256<byte> a0 = Vector256.Load(w0 + o), a1 = Vector256.Load(w0 + o + 32);
                Vector256<byte> a2 = Vector256.Load(w1 + o), a3 = Vector256.Load(w1 + o + 32);
                Vector256<byte> a4 = Vector256.Load(w2 + o), a5 = Vector256.Load(w2 + o + 32);
                Vector256<byte> a6 = Vector256.Load(w3 + o), a7 = Vector256.Load(w3 + o + 32);
                h00 = AvxVnni.MultiplyWideningAndAdd(h00, a0, bh); l00 = AvxVnni.MultiplyWideningAndAdd(l00, a0, bl);
                h01 = AvxVnni.MultiplyWideningAndAdd(h01, a1, bh); l01 = AvxVnni.MultiplyWideningAndAdd(l01, a1, bl);
                h10 = AvxVnni.MultiplyWideningAndAdd(h10, a2, bh); l10 = AvxVnni.MultiplyWideningAndAdd(l10, a2, bl);
                h11 = AvxVnni.MultiplyWideningAndAdd(h11, a3, bh); l11 = AvxVnni.MultiplyWideningAndAdd(l11, a3, bl);
                h20 = AvxVnni.MultiplyWideningAndAdd(h20, a4, bh); l20 = AvxVnni.MultiplyWideningAndAdd(l20, a4, bl);
                h21 = AvxVnni.MultiplyWideningAndAdd(h21, a5, bh); l21 = AvxVnni.MultiplyWideningAndAdd(l21, a5, bl);
                h30 = AvxVnni.MultiplyWideningAndAdd(h30, a6, bh); l30 = AvxVnni.MultiplyWideningAndAdd(l30, a6, bl);
                h31 = AvxVnni.MultiplyWideningAndAdd(h31, a7, bh); l31 = AvxVnni.MultiplyWideningAndAdd(l31, a7, bl);
            }
            // Σ (q + 128)·q_x = D + 128·Σ q_x.
            Vector256<int> bias = Vector256.Create(QuantizedWeight.Int8Offset * sums[b]);
            Vector256<float> f = Vector256.Create(sx[b]);
            bool first = b == 0;
            Flush(y, Combine(h00, l00) - bias, f, first);
            Flush(y + 8, Combine(h01, l01) - bias, f, first);
            Flush(y + 16, Combine(h10, l10) - bias, f, first);
            Flush(y + 24, Combine(h11, l11) - bias, f, first);
            Flush(y + 32, Combine(h20, l20) - bias, f, first);
            Flush(y + 40, Combine(h21, l21) - bias, f, first);
            Flush(y + 48, Combine(h30, l30) - bias, f, first);
            Flush(y + 56, Combine(h31, l31) - bias, f, first);
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
        byte* w0 = w, w1 = w + bs, w2 = w + 2 * bs, w3 = w + 3 * bs;
        Vector256<byte> mask = Vector256.Create((byte)15);
        for (int b = b0; b < b1; b++)
        {
            Vector256<int> h00 = default, h01 = default, h10 = default, h11 = default; // h{block}{half}: Σ u·hi
            Vector256<int> h20 = default, h21 = default, h30 = default, h31 = default;
            Vector256<int> l00 = default, l01 = default, l10 = default, l11 = default; // Σ u·lo
            Vector256<int> l20 = default, l21 = default, l30 = default, l31 = default;
            nint kEnd = (nint)(b + 1) * blockSize;
            for (nint k = (nint)b * blockSize; k < kEnd; k += 8)
            {
                // Hot spot: 4 blocks × 64 bytes = 8 columns × 64 rows; per 32 bytes one load, an AND, a GFNI shift, 4 vpdpbusd.
                nint o = 8 * k;
                if (prefetch > 0) Prefetch4(w0, w1, w2, w3, o + prefetch);
                Vector256<sbyte> he = Vector256.Create(*(int*)(hi + k)).AsSByte(), ho = Vector256.Create(*(int*)(hi + k + 4)).AsSByte();
                Vector256<sbyte> le = Vector256.Create(*(int*)(lo + k)).AsSByte(), lodd = Vector256.Create(*(int*)(lo + k + 4)).AsSByte();
                Int4Step(Vector256.Load(w0 + o), mask, he, ho, le, lodd, ref h00, ref l00);
                Int4Step(Vector256.Load(w0 + o + 32), mask, he, ho, le, lodd, ref h01, ref l01);
                Int4Step(Vector256.Load(w1 + o), mask, he, ho, le, lodd, ref h10, ref l10);
                Int4Step(Vector256.Load(w1 + o + 32), mask, he, ho, le, lodd, ref h11, ref l11);
                Int4Step(Vector256.Load(w2 + o), mask, he, ho, le, lodd, ref h20, ref l20);
                Int4Step(Vector256.Load(w2 + o + 32), mask, he, ho, le, lodd, ref h21, ref l21);
                Int4Step(Vector256.Load(w3 + o), mask, he, ho, le, lodd, ref h30, ref l30);
                Int4Step(Vector256.Load(w3 + o + 32), mask, he, ho, le, lodd, ref h31, ref l31);
            }
            var c = new Int4Block(s, z, sbs, b * blockSize / groupSize, sums[b], sx[b], b == 0);
            c.Flush(y, 0, h00, l00); c.Flush(y + 8, 0, h01, l01, half: 1);
            c.Flush(y + 16, 1, h10, l10); c.Flush(y + 24, 1, h11, l11, half: 1);
            c.Flush(y + 32, 2, h20, l20); c.Flush(y + 40, 2, h21, l21, half: 1);
            c.Flush(y + 48, 3, h30, l30); c.Flush(y + 56, 3, h31, l31, half: 1);
        }
    }

    /// <summary>
    /// INT4 VNNI tile for two tokens (activation rows hi/lo/sx/sums at offsets 0 and <paramref name="ldq"/> / <paramref name="ldb"/>,
    /// outputs at y and y + <paramref name="ldy"/>) over two blocks: each weight vector is loaded and unpacked once for both tokens;
    /// <paramref name="prefetch"/> as in Int8Vnni.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int4Vnni2(sbyte* hi, sbyte* lo, nint ldq, float* sx, int* sums, nint ldb, int b0, int b1, int blockSize, int groupSize,
        byte* w, nint bs, float* s, byte* z, nint sbs, float* y, nint ldy, nint prefetch)
    {
        byte* w0 = w, w1 = w + bs;
        Vector256<byte> mask = Vector256.Create((byte)15);
        for (int b = b0; b < b1; b++)
        {
            Vector256<int> h00 = default, h01 = default, h10 = default, h11 = default; // token 0: h{block}{half}
            Vector256<int> l00 = default, l01 = default, l10 = default, l11 = default;
            Vector256<int> g00 = default, g01 = default, g10 = default, g11 = default; // token 1
            Vector256<int> m00 = default, m01 = default, m10 = default, m11 = default;
            nint kEnd = (nint)(b + 1) * blockSize;
            for (nint k = (nint)b * blockSize; k < kEnd; k += 8)
            {
                // Hot spot (batches): 2 blocks × 64 bytes × 2 tokens; per 32 bytes one load, an AND, a GFNI shift, 8 vpdpbusd.
                nint o = 8 * k;
                if (prefetch > 0) { Sse.Prefetch0(w0 + o + prefetch); Sse.Prefetch0(w1 + o + prefetch); }
                Vector256<sbyte> he = Vector256.Create(*(int*)(hi + k)).AsSByte(), ho = Vector256.Create(*(int*)(hi + k + 4)).AsSByte();
                Vector256<sbyte> le = Vector256.Create(*(int*)(lo + k)).AsSByte(), lodd = Vector256.Create(*(int*)(lo + k + 4)).AsSByte();
                Vector256<sbyte> ge = Vector256.Create(*(int*)(hi + ldq + k)).AsSByte(), go = Vector256.Create(*(int*)(hi + ldq + k + 4)).AsSByte();
                Vector256<sbyte> me = Vector256.Create(*(int*)(lo + ldq + k)).AsSByte(), mo = Vector256.Create(*(int*)(lo + ldq + k + 4)).AsSByte();
                // Each weight vector is unpacked once and multiplied for both tokens.
                (Vector256<byte> even, Vector256<byte> odd) = Nibbles(Vector256.Load(w0 + o), mask);
                Int4Dot(even, odd, he, ho, le, lodd, ref h00, ref l00); Int4Dot(even, odd, ge, go, me, mo, ref g00, ref m00);
                (even, odd) = Nibbles(Vector256.Load(w0 + o + 32), mask);
                Int4Dot(even, odd, he, ho, le, lodd, ref h01, ref l01); Int4Dot(even, odd, ge, go, me, mo, ref g01, ref m01);
                (even, odd) = Nibbles(Vector256.Load(w1 + o), mask);
                Int4Dot(even, odd, he, ho, le, lodd, ref h10, ref l10); Int4Dot(even, odd, ge, go, me, mo, ref g10, ref m10);
                (even, odd) = Nibbles(Vector256.Load(w1 + o + 32), mask);
                Int4Dot(even, odd, he, ho, le, lodd, ref h11, ref l11); Int4Dot(even, odd, ge, go, me, mo, ref g11, ref m11);
            }
            int g = b * blockSize / groupSize;
            var c = new Int4Block(s, z, sbs, g, sums[b], sx[b], b == 0);
            c.Flush(y, 0, h00, l00); c.Flush(y + 8, 0, h01, l01, half: 1);
            c.Flush(y + 16, 1, h10, l10); c.Flush(y + 24, 1, h11, l11, half: 1);
            c = new Int4Block(s, z, sbs, g, sums[ldb + b], sx[ldb + b], b == 0);
            float* y1 = y + ldy;
            c.Flush(y1, 0, g00, m00); c.Flush(y1 + 8, 0, g01, m01, half: 1);
            c.Flush(y1 + 16, 1, g10, m10); c.Flush(y1 + 24, 1, g11, m11, half: 1);
        }
    }

    // One 32-byte INT4 vector (8 rows × 8 columns) as bytes: the even columns (low nibbles) and the odd columns (high nibbles).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<byte> Even, Vector256<byte> Odd) Nibbles(Vector256<byte> v, Vector256<byte> mask) =>
        (v & mask,
         // The high nibble of every byte moved down: one GF(2) affine transform (bit i of a byte ← bit i + 4) where GFNI exists.
         Gfni.V256.IsSupported
            ? Gfni.V256.GaloisFieldAffineTransform(v, Vector256.Create(HighNibbleDown).AsByte(), 0)
            : Avx2.ShiftRightLogical(v.AsUInt32(), 4).AsByte() & mask);

    // h += Σ nibble·hi, l += Σ nibble·lo over one unpacked vector (vpdpbusd).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Int4Dot(Vector256<byte> even, Vector256<byte> odd, Vector256<sbyte> he, Vector256<sbyte> ho, Vector256<sbyte> le,
        Vector256<sbyte> lodd, ref Vector256<int> h, ref Vector256<int> l)
    {
        h = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(h, even, he), odd, ho);
        l = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(l, even, le), odd, lodd);
    }

    // Int4Dot of one packed vector, unpacked here.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Int4Step(Vector256<byte> v, Vector256<byte> mask, Vector256<sbyte> he, Vector256<sbyte> ho, Vector256<sbyte> le,
        Vector256<sbyte> lodd, ref Vector256<int> h, ref Vector256<int> l)
    {
        (Vector256<byte> even, Vector256<byte> odd) = Nibbles(v, mask);
        Int4Dot(even, odd, he, ho, le, lodd, ref h, ref l);
    }

    /// <summary>
    /// INT8 without VNNI (AVX2): two blocks. Per 4 columns × 4 rows one zero-extending widen of the weight bytes and one vpmaddwd
    /// against the 16-bit activations q16 (two partial sums per row, combined at the end of each activation block).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int8Avx2(short* q16, float* sx, int* sums, int b0, int b1, int blockSize, byte* w, nint bs, float* y)
    {
        byte* w0 = w, w1 = w + bs;
        for (int b = b0; b < b1; b++)
        {
            Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default; // block 0, rows 4i..4i+3, two partials each
            Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default; // block 1
            nint kEnd = (nint)(b + 1) * blockSize;
            for (nint k = (nint)b * blockSize; k < kEnd; k += 4)
            {
                Vector256<short> x = Vector256.Create(*(long*)(q16 + k)).AsInt16(); // columns k..k+3, four times
                nint o = 16 * k;
                a0 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(w0 + o), x);
                a1 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(w0 + o + 16), x);
                a2 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(w0 + o + 32), x);
                a3 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(w0 + o + 48), x);
                c0 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(w1 + o), x);
                c1 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(w1 + o + 16), x);
                c2 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(w1 + o + 32), x);
                c3 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(w1 + o + 48), x);
            }
            Vector256<int> bias = Vector256.Create(QuantizedWeight.Int8Offset * sums[b]);
            Vector256<float> f = Vector256.Create(sx[b]);
            bool first = b == 0;
            Flush(y, RowSums(a0, a1) - bias, f, first);
            Flush(y + 8, RowSums(a2, a3) - bias, f, first);
            Flush(y + 16, RowSums(c0, c1) - bias, f, first);
            Flush(y + 24, RowSums(c2, c3) - bias, f, first);
        }
    }

    /// <summary>
    /// INT4 without VNNI (AVX2): two blocks. vpmaddubsw (nibble × signed byte, pairs; at most 2·15·128 in magnitude, so it never
    /// saturates) then vpmaddwd by ones gives vpdpbusd's lane sums exactly.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int4Avx2(sbyte* hi, sbyte* lo, float* sx, int* sums, int b0, int b1, int blockSize, int groupSize,
        byte* w, nint bs, float* s, byte* z, nint sbs, float* y)
    {
        byte* w0 = w, w1 = w + bs;
        Vector256<byte> mask = Vector256.Create((byte)15);
        for (int b = b0; b < b1; b++)
        {
            Vector256<int> h00 = default, h01 = default, h10 = default, h11 = default;
            Vector256<int> l00 = default, l01 = default, l10 = default, l11 = default;
            nint kEnd = (nint)(b + 1) * blockSize;
            for (nint k = (nint)b * blockSize; k < kEnd; k += 8)
            {
                nint o = 8 * k;
                Vector256<sbyte> he = Vector256.Create(*(int*)(hi + k)).AsSByte(), ho = Vector256.Create(*(int*)(hi + k + 4)).AsSByte();
                Vector256<sbyte> le = Vector256.Create(*(int*)(lo + k)).AsSByte(), lodd = Vector256.Create(*(int*)(lo + k + 4)).AsSByte();
                Int4Avx2Step(Vector256.Load(w0 + o), mask, he, ho, le, lodd, ref h00, ref l00);
                Int4Avx2Step(Vector256.Load(w0 + o + 32), mask, he, ho, le, lodd, ref h01, ref l01);
                Int4Avx2Step(Vector256.Load(w1 + o), mask, he, ho, le, lodd, ref h10, ref l10);
                Int4Avx2Step(Vector256.Load(w1 + o + 32), mask, he, ho, le, lodd, ref h11, ref l11);
            }
            var c = new Int4Block(s, z, sbs, b * blockSize / groupSize, sums[b], sx[b], b == 0);
            c.Flush(y, 0, h00, l00); c.Flush(y + 8, 0, h01, l01, half: 1);
            c.Flush(y + 16, 1, h10, l10); c.Flush(y + 24, 1, h11, l11, half: 1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Int4Avx2Step(Vector256<byte> v, Vector256<byte> mask, Vector256<sbyte> he, Vector256<sbyte> ho, Vector256<sbyte> le,
        Vector256<sbyte> lodd, ref Vector256<int> h, ref Vector256<int> l)
    {
        (Vector256<byte> even, Vector256<byte> odd) = Nibbles(v, mask);
        Vector256<short> ones = Vector256.Create((short)1);
        h += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(even, he) + Avx2.MultiplyAddAdjacent(odd, ho), ones);
        l += Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(even, le) + Avx2.MultiplyAddAdjacent(odd, lodd), ones);
    }

    // Rows 0..7 of two accumulators that each hold [r, r, r+1, r+1 | r+2, r+2, r+3, r+3] partial sums (first: rows 0–3, second: 4–7).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> RowSums(Vector256<int> first, Vector256<int> second) =>
        Avx2.Permute4x64(Avx2.HorizontalAdd(first, second).AsInt64(), 0b11_01_10_00).AsInt32();

    /// <summary>Scalar twin of both tiles (machines without AVX-VNNI, and the Scalar width): the same D and float steps.</summary>
    public static void Scalar(QuantScheme scheme, sbyte* hi, sbyte* lo, float* sx, int* sums, int b0, int b1, int blockSize, int groupSize,
        byte* w, nint bs, float* s, byte* z, nint sbs, float* y)
    {
        bool int4 = scheme == QuantScheme.Int4Group;
        for (int b = b0; b < b1; b++)
        {
            nint g = (nint)b * blockSize / groupSize;
            for (int r = 0; r < TileRows; r++)
            {
                byte* wb = w + r / 16 * bs;
                int lane = r % 16;
                long d = 0;
                for (nint k = (nint)b * blockSize; k < (nint)(b + 1) * blockSize; k++)
                {
                    nint p = int4 ? ActivationQuantizer.NibblePosition(k) : k; // column k in the activation planes
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

    // The prefetches of the four block streams of a unit.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch4(byte* w0, byte* w1, byte* w2, byte* w3, nint offset)
    {
        Sse.Prefetch0(w0 + offset); Sse.Prefetch0(w1 + offset);
        Sse.Prefetch0(w2 + offset); Sse.Prefetch0(w3 + offset);
    }

    // One token's INT4 activation block b against group g: the per-block factors of every INT4 tile's flush.
    private readonly ref struct Int4Block(float* s, byte* z, nint sbs, int g, int sum, float sx, bool first)
    {
        // 8 outputs (lanes 8·half.. of block blk): y = fma((float)(256·h + l − z·Σq), s·sx, first ? +0 : y).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Flush(float* y, int blk, Vector256<int> h, Vector256<int> l, int half = 0)
        {
            nint at = blk * sbs + 16 * (nint)g + 8 * half;
            Vector256<int> zs = Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(z + at), Vector256.Create(sum));
            QuantizedDotKernel.Flush(y, Combine(h, l) - zs, Vector256.Load(s + at) * Vector256.Create(sx), first);
        }
    }

    // y = fma((float)d, f, first ? +0 : y) for 8 outputs.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Flush(float* y, Vector256<int> d, Vector256<float> f, bool first) =>
        Fma.MultiplyAdd(Avx.ConvertToVector256Single(d), f, first ? Vector256<float>.Zero : Vector256.Load(y)).Store(y);
}
