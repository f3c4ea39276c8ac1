// Scalar twin of MatMulKernel: y = x·wᵀ with each weight element widened by Weight.GetFloat and summed in double.
using Estuary.Tensors;

namespace Estuary.Backend.Cpu.Kernels.Reference;

/// <summary>Obviously-correct matmul for tests.</summary>
internal static class MatMulReference
{
    /// <summary>y[T, N] = x[T, K] · w[N, K]ᵀ.</summary>
    public static void Run(ReadOnlySpan<float> x, int tokens, Weight w, Span<float> y)
    {
        int n = w.Rows, k = w.Cols;
        for (int t = 0; t < tokens; t++)
        {
            for (int r = 0; r < n; r++)
            {
                double s = 0;
                for (int i = 0; i < k; i++) s += (double)x[t * k + i] * w.GetFloat((long)r * k + i);
                y[t * n + r] = (float)s;
            }
        }
    }
}
