// RMSNorm of one row: y = x / sqrt(mean(x²) + eps) · gamma, F32 accumulation (eps inside the sqrt, as Hugging Face).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>RMSNorm row kernel; gamma is pre-widened to F32 once per call.</summary>
internal static class RmsNormKernel
{
    /// <summary>y[H] = x[H] · rsqrt(mean(x²) + eps) · gamma[H]; x and y may alias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row(ref float x, ref float gamma, int h, float eps, ref float y, bool simd)
    {
        float ss = VectorMath.SumSquares(ref x, h, simd);
        float inv = 1f / MathF.Sqrt(ss / h + eps);
        nuint i = 0;
        if (simd)
        {
            var vi = Vector256.Create(inv);
            nuint h8 = (nuint)(h & ~7);
            for (; i < h8; i += 8)
                (Vector256.LoadUnsafe(ref x, i) * vi * Vector256.LoadUnsafe(ref gamma, i)).StoreUnsafe(ref y, i);
        }
        for (; i < (nuint)h; i++) Unsafe.Add(ref y, i) = Unsafe.Add(ref x, i) * inv * Unsafe.Add(ref gamma, i);
    }
}
