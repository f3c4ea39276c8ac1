// Scalar twin of the quantized matmul: y = x·deq(w)ᵀ with each element from QuantizedWeight.DequantizeElement, summed in double.
using Estuary.Tensors.Quantization;

namespace Estuary.Backend.Cpu.Kernels.Reference;

/// <summary>Obviously-correct quantized matmul for tests.</summary>
internal static class QuantizedMatMulReference
{
    /// <summary>y[T, N] = x[T, K] · deq(w)[N, K]ᵀ.</summary>
    public static void Run(ReadOnlySpan<float> x, int tokens, QuantizedWeight w, Span<float> y)
    {
        int n = w.Rows, k = w.Cols;
        for (int t = 0; t < tokens; t++)
        {
            for (int r = 0; r < n; r++)
            {
                double s = 0;
                for (int i = 0; i < k; i++) s += (double)x[t * k + i] * w.DequantizeElement(r, i);
                y[t * n + r] = (float)s;
            }
        }
    }
}
