// Per-block 16-bit quantization of activations for the integer (VNNI) quantized matmul: each block of B input columns of a token
// gets a scale sx = amax / 32639 and integers q = round(x / sx) ∈ [−32639, 32639], stored as two signed bytes q = 256·h + l so that
// unsigned-weight × signed-byte dot products (vpdpbusd) give Σ w·q exactly in two passes.
// Invariant: the vector and scalar paths give the same bytes, scales and sums (per-element IEEE multiply, round-half-even).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Quantizes F32 activations into the hi/lo byte planes, block scales and block sums the integer kernels read.</summary>
internal static unsafe class ActivationQuantizer
{
    /// <summary>Largest |q|: 127·256 + 127, so that h = (q − l)/256 and the signed low byte l both fit a signed byte.</summary>
    public const int Range = 32639;

    /// <summary>
    /// x [T, K] (row stride K) → hi, lo [T, K] signed bytes (q = 256·hi + lo), scales [T, K/B] (sx per block) and sums [T, K/B]
    /// (Σ q per block). With <paramref name="nibbleOrder"/> each run of 8 columns is stored as 0, 2, 4, 6, 1, 3, 5, 7 (the order of
    /// the INT4 kernel's even and odd nibbles). A block with a non-finite value gets q = 0 and sx = NaN (its outputs become NaN);
    /// a block of zeros, or one so small that 32639/amax overflows, gets q = 0 and sx = 0. B and K are multiples of 16.
    /// When <paramref name="q16"/> is not null, q itself is also written there as [T, K] 16-bit integers (in the same order).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize(float* x, int tokens, int k, int block, bool nibbleOrder, sbyte* hi, sbyte* lo, short* q16, float* scales, int* sums, SimdWidth width)
    {
        int blocks = k / block;
        bool vector = width == SimdWidth.Vector512;
        for (int t = 0; t < tokens; t++)
        {
            for (int b = 0; b < blocks; b++)
            {
                nint o = (nint)t * k + (nint)b * block;
                float amax = vector ? AbsMax512(x + o, block) : AbsMaxScalar(x + o, block);
                nint s = (nint)t * blocks + b;
                float inv = Range / amax;
                if (!float.IsFinite(amax) || amax == 0f || float.IsInfinity(inv))
                {
                    new Span<sbyte>(hi + o, block).Clear();
                    new Span<sbyte>(lo + o, block).Clear();
                    if (q16 != null) new Span<short>(q16 + o, block).Clear();
                    scales[s] = float.IsFinite(amax) ? 0f : float.NaN;
                    sums[s] = 0;
                    continue;
                }
                scales[s] = amax / Range;
                short* q16o = q16 == null ? null : q16 + o;
                sums[s] = vector ? Block512(x + o, block, inv, nibbleOrder, hi + o, lo + o, q16o) : BlockScalar(x + o, block, inv, nibbleOrder, hi + o, lo + o, q16o);
            }
        }
    }

    // max |x| over n values, or NaN when any value is Inf or NaN.
    private static float AbsMaxScalar(float* x, int n)
    {
        float m = 0f;
        for (int i = 0; i < n; i++)
        {
            if (!float.IsFinite(x[i])) return float.NaN;
            m = MathF.Max(m, MathF.Abs(x[i]));
        }
        return m;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float AbsMax512(float* x, int n)
    {
        Vector512<float> m = Vector512<float>.Zero, poison = Vector512<float>.Zero;
        for (int i = 0; i < n; i += 16)
        {
            Vector512<float> v = Vector512.Load(x + i);
            m = Vector512.Max(m, Vector512.Abs(v));
            poison += v - v; // NaN in a lane once an Inf or NaN passed through it
        }
        if (float.IsNaN(Vector512.Sum(poison))) return float.NaN;
        float max = 0f;
        for (int i = 0; i < 16; i++) max = MathF.Max(max, m[i]);
        return max;
    }

    /// <summary>Stored position of column <paramref name="k"/> in nibble order: within each run of 8, columns 0, 2, 4, 6, 1, 3, 5, 7.</summary>
    public static nint NibblePosition(nint k) => (k & ~7) + (k % 2 == 0 ? k % 8 / 2 : 4 + k % 8 / 2);

    private static int BlockScalar(float* x, int n, float inv, bool nibbleOrder, sbyte* hi, sbyte* lo, short* q16)
    {
        int sum = 0;
        for (int c = 0; c < n; c++)
        {
            nint p = nibbleOrder ? NibblePosition(c) : c;
            int q = (int)MathF.Round(x[c] * inv); // round half to even, as cvtps2dq
            int l = (sbyte)q;
            hi[p] = (sbyte)((q - l) >> 8);
            lo[p] = (sbyte)l;
            if (q16 != null) q16[p] = (short)q;
            sum += q;
        }
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Block512(float* x, int n, float inv, bool nibbleOrder, sbyte* hi, sbyte* lo, short* q16)
    {
        Vector512<float> scale = Vector512.Create(inv);
        Vector512<int> order = Vector512.Create(0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15);
        Vector512<int> sum = Vector512<int>.Zero;
        for (int i = 0; i < n; i += 16)
        {
            Vector512<int> q = Avx512F.ConvertToVector512Int32(Vector512.Load(x + i) * scale); // round half to even (MXCSR default)
            if (nibbleOrder) q = Avx512F.PermuteVar16x32(q, order);
            Vector512<int> l = Avx512F.ShiftRightArithmetic(Avx512F.ShiftLeftLogical(q, 24), 24);
            Avx512F.ConvertToVector128SByte(Avx512F.ShiftRightArithmetic(q - l, 8)).Store(hi + i);
            Avx512F.ConvertToVector128SByte(l).Store(lo + i);
            if (q16 != null) Avx512F.ConvertToVector256Int16(q).Store(q16 + i);
            sum += q;
        }
        return Vector512.Sum(sum);
    }
}
