// Small SIMD building blocks shared by the row kernels (dot, sum, max); each with a scalar tail.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Vector256 reductions over float rows; callers check <see cref="Vector256.IsHardwareAccelerated"/> once per call.</summary>
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
        if (simd && n >= 8)
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
        if (simd && n >= 8)
        {
            var acc = Vector256<float>.Zero;
            var s = Vector256.Create(shift);
            nuint n8 = (nuint)(n & ~7);
            for (; i < n8; i += 8)
            {
                var e = Vector256.Exp(Vector256.LoadUnsafe(ref a, i) - s);
                e.StoreUnsafe(ref a, i);
                acc += e;
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < (nuint)n; i++)
        {
            float e = MathF.Exp(Unsafe.Add(ref a, i) - shift);
            Unsafe.Add(ref a, i) = e;
            sum += e;
        }
        return sum;
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
