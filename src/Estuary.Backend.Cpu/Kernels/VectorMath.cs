// Small SIMD building blocks shared by the row kernels (dot, sum, max, exp); each with a scalar tail.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>
/// Vector256 reductions over float rows (Max and ExpShiftSum take Vector512 where it is accelerated: a softmax row of 256 went
/// from 1.82 to 1.24 ns per element, kernel benchmark 'micro'); callers check <see cref="Vector256.IsHardwareAccelerated"/> once per call.
/// </summary>
internal static class VectorMath
{
    /// <summary>Σ a[i]·b[i] over n elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ref float a, ref float b, int n, bool simd)
    {
        nuint i = 0;
        float r = 0;
        if (simd && n >= 8)
        {
            var acc = Vector256<float>.Zero;
            nuint n8 = (nuint)(n & ~7);
            for (; i < n8; i += 8)
                acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref a, i), Vector256.LoadUnsafe(ref b, i), acc);
            r = Vector256.Sum(acc);
        }
        for (; i < (nuint)n; i++) r = MathF.FusedMultiplyAdd(Unsafe.Add(ref a, i), Unsafe.Add(ref b, i), r);
        return r;
    }

    /// <summary>Σ a[i]² over n elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float SumSquares(ref float a, int n, bool simd) => Dot(ref a, ref a, n, simd);

    /// <summary>max a[i] over n ≥ 1 elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Max(ref float a, int n, bool simd)
    {
        nuint i = 0;
        float r = float.NegativeInfinity;
        if (simd && Vector512.IsHardwareAccelerated && n >= 32)
        {
            // Two accumulators: vmaxps has a 4-cycle latency.
            Vector512<float> a0 = Vector512.Create(float.NegativeInfinity), a1 = a0;
            nuint n32 = (nuint)(n & ~31);
            for (; i < n32; i += 32)
            {
                a0 = Vector512.Max(a0, Vector512.LoadUnsafe(ref a, i));
                a1 = Vector512.Max(a1, Vector512.LoadUnsafe(ref a, i + 16));
            }
            a0 = Vector512.Max(a0, a1);
            for (int j = 0; j < 16; j++) r = MathF.Max(r, a0.GetElement(j));
        }
        else if (simd && n >= 8)
        {
            var acc = Vector256.Create(float.NegativeInfinity);
            nuint n8 = (nuint)(n & ~7);
            for (; i < n8; i += 8) acc = Vector256.Max(acc, Vector256.LoadUnsafe(ref a, i));
            for (int j = 0; j < 8; j++) r = MathF.Max(r, acc.GetElement(j));
        }
        for (; i < (nuint)n; i++) r = MathF.Max(r, Unsafe.Add(ref a, i));
        return r;
    }

    /// <summary>a[i] = exp(a[i] - shift) in place; returns Σ a[i] afterwards.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ExpShiftSum(ref float a, int n, float shift, bool simd)
    {
        nuint i = 0;
        float sum = 0;
        if (simd && Vector512.IsHardwareAccelerated && n >= 16)
        {
            // Sixteen lanes per step (each the scalar Exp's bits); the sum is a 16-lane vector chain, then its horizontal sum.
            var acc = Vector512<float>.Zero;
            var s = Vector512.Create(shift);
            nuint n16 = (nuint)(n & ~15);
            for (; i < n16; i += 16)
            {
                var e = Exp(Vector512.LoadUnsafe(ref a, i) - s);
                e.StoreUnsafe(ref a, i);
                acc += e;
            }
            sum = Vector512.Sum(acc);
        }
        else if (simd && n >= 8)
        {
            var acc = Vector256<float>.Zero;
            var s = Vector256.Create(shift);
            nuint n8 = (nuint)(n & ~7);
            for (; i < n8; i += 8)
            {
                var e = Exp(Vector256.LoadUnsafe(ref a, i) - s);
                e.StoreUnsafe(ref a, i);
                acc += e;
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < (nuint)n; i++)
        {
            float e = Exp(Unsafe.Add(ref a, i) - shift);
            Unsafe.Add(ref a, i) = e;
            sum += e;
        }
        return sum;
    }

    // exp(x) = 2^n · e^r with n = round(x·log2 e), r = x − n·ln 2 (two-part ln 2), e^r ≈ 1 + r + r²·P(r) (degree-5 minimax
    // polynomial, Cephes' expf coefficients): ≤ 2 ulp against the exact value on [−87.3, 88]. Below −87.3 the result is 0, above 88
    // +∞ (exp(88) ≈ 1.65e38; the last 0.7 of the float range is given up so 2^n stays a normal float), NaN stays NaN. The vector
    // and scalar forms run the same operations lane by lane, so every element gets the same bits whatever the path.
    // Why not Vector256.Exp: on .NET 10 it measured ≈ 8 ns per element here, which made softmax the largest part of attention.
    private const float ExpLo = -87.33654f, ExpHi = 88f, Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;
    private const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    /// <summary>e^x (see the comment above for range and accuracy).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        float c = MathF.Min(MathF.Max(x, ExpLo), ExpHi);
        float n = MathF.Round(c * Log2E);
        float r = MathF.FusedMultiplyAdd(n, -Ln2Hi, c);
        r = MathF.FusedMultiplyAdd(n, -Ln2Lo, r);
        float z = r * r;
        float p = MathF.FusedMultiplyAdd(P0, r, P1);
        p = MathF.FusedMultiplyAdd(p, r, P2);
        p = MathF.FusedMultiplyAdd(p, r, P3);
        p = MathF.FusedMultiplyAdd(p, r, P4);
        p = MathF.FusedMultiplyAdd(p, r, P5);
        float y = MathF.FusedMultiplyAdd(p, z, r) + 1f;
        y *= BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
        if (x < ExpLo) return 0f;
        if (x > ExpHi) return float.PositiveInfinity;
        return float.IsNaN(x) ? x : y;
    }

    /// <summary>e^x on 16 lanes, each lane bit-identical to <see cref="Exp(float)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        var c = Vector512.Min(Vector512.Max(x, Vector512.Create(ExpLo)), Vector512.Create(ExpHi));
        var n = Vector512.Round(c * Vector512.Create(Log2E));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Hi), c);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-Ln2Lo), r);
        var z = r * r;
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(P5));
        var y = Vector512.FusedMultiplyAdd(p, z, r) + Vector512<float>.One;
        y *= Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
        y = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(ExpLo)), Vector512<float>.Zero, y);
        y = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(ExpHi)), Vector512.Create(float.PositiveInfinity), y);
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x);
    }

    /// <summary>e^x on 8 lanes, each lane bit-identical to <see cref="Exp(float)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var c = Vector256.Min(Vector256.Max(x, Vector256.Create(ExpLo)), Vector256.Create(ExpHi));
        var n = Vector256.Round(c * Vector256.Create(Log2E));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), c);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var z = r * r;
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(P5));
        var y = Vector256.FusedMultiplyAdd(p, z, r) + Vector256<float>.One;
        y *= Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();
        y = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(ExpLo)), Vector256<float>.Zero, y);
        y = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(ExpHi)), Vector256.Create(float.PositiveInfinity), y);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x);
    }

    /// <summary>y[i] += alpha · x[i] over n elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Axpy(float alpha, ref float x, ref float y, int n, bool simd)
    {
        nuint i = 0;
        if (simd)
        {
            var va = Vector256.Create(alpha);
            nuint n8 = (nuint)(n & ~7);
            for (; i < n8; i += 8)
                Vector256.FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref x, i), Vector256.LoadUnsafe(ref y, i)).StoreUnsafe(ref y, i);
        }
        for (; i < (nuint)n; i++) Unsafe.Add(ref y, i) = MathF.FusedMultiplyAdd(alpha, Unsafe.Add(ref x, i), Unsafe.Add(ref y, i));
    }

    /// <summary>y[i] *= alpha over n elements.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(ref float y, float alpha, int n, bool simd)
    {
        nuint i = 0;
        if (simd)
        {
            var va = Vector256.Create(alpha);
            nuint n8 = (nuint)(n & ~7);
            for (; i < n8; i += 8) (Vector256.LoadUnsafe(ref y, i) * va).StoreUnsafe(ref y, i);
        }
        for (; i < (nuint)n; i++) Unsafe.Add(ref y, i) *= alpha;
    }
}
