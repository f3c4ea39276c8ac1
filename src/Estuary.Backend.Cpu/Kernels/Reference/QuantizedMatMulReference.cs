// Scalar twins of the quantized matmul. Run: y = x·deq(w)ᵀ with each element from QuantizedWeight.DequantizeElement, summed in
// double (the accuracy reference). RunExact: the kernels' defined F32 arithmetic, operation for operation (the bit-exact reference).
using Estuary.Tensors.Quantization;

namespace Estuary.Backend.Cpu.Kernels.Reference;

/// <summary>Obviously-correct quantized matmuls for tests.</summary>
internal static class QuantizedMatMulReference
{
    /// <summary>y[T, N] = x[T, K] · deq(w)[N, K]ᵀ, in double.</summary>
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

    /// <summary>
    /// y[T, N] exactly as the kernels compute it, whatever the batch, threads or vector width. With a = fma chains from +0 in k order:
    /// INT8 — a = Σ_k x[k]·q[k] over all of K, y = a·s;
    /// INT4 — y = +0, then per group g: a = Σ_{k∈g} x[k]·(q[k] − 8), y = fma(a, s_g, y), y = fma(X_g, (8 − z_g)·s_g, y), where
    /// X_g = Σ_{k∈g} x[k] is a plain in-order F32 sum from +0 (<see cref="GroupSum"/>).
    /// </summary>
    public static void RunExact(ReadOnlySpan<float> x, int tokens, QuantizedWeight w, Span<float> y)
    {
        int n = w.Rows, k = w.Cols, gs = w.GroupSize;
        for (int t = 0; t < tokens; t++)
        {
            var xt = x.Slice(t * k, k);
            for (int r = 0; r < n; r++)
            {
                if (w.Scheme == QuantScheme.Int8PerChannel)
                {
                    float a = 0f;
                    for (int i = 0; i < k; i++) a = MathF.FusedMultiplyAdd(xt[i], w.GetQ(r, i), a);
                    y[t * n + r] = a * w.GetScale(r, 0);
                    continue;
                }
                float acc = 0f;
                for (int g = 0; g < w.NumGroups; g++)
                {
                    float a = 0f;
                    for (int i = g * gs; i < (g + 1) * gs; i++) a = MathF.FusedMultiplyAdd(xt[i], w.GetQ(r, i) - QuantizedWeight.Int4Center, a);
                    acc = MathF.FusedMultiplyAdd(a, w.GetScale(r, g), acc);
                    acc = MathF.FusedMultiplyAdd(GroupSum(xt.Slice(g * gs, gs)), w.GetCenteredOffset(r, g), acc);
                }
                y[t * n + r] = acc;
            }
        }
    }

    /// <summary>Σ x in order from +0, rounding after every add.</summary>
    public static float GroupSum(ReadOnlySpan<float> x)
    {
        float s = 0f;
        foreach (float v in x) s += v;
        return s;
    }
}
