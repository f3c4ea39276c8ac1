// Scalar twin of RmsNormKernel: y = x / sqrt(mean(x²) + eps) · gamma, mean in double.
using Estuary.Tensors;

namespace Estuary.Backend.Cpu.Kernels.Reference;

/// <summary>Obviously-correct RMSNorm for tests.</summary>
internal static class RmsNormReference
{
    /// <summary>y[T, H] from x[T, H] and gamma [H].</summary>
    public static void Run(ReadOnlySpan<float> x, int tokens, Weight gamma, float eps, Span<float> y)
    {
        int h = gamma.Cols;
        for (int t = 0; t < tokens; t++)
        {
            double ss = 0;
            for (int i = 0; i < h; i++) ss += (double)x[t * h + i] * x[t * h + i];
            double inv = 1.0 / Math.Sqrt(ss / h + eps);
            for (int i = 0; i < h; i++) y[t * h + i] = (float)(x[t * h + i] * inv * gamma.GetFloat(i));
        }
    }
}
