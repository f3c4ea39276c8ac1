// Scalar twins of the quantized matmul. Run: y = x·deq(w)ᵀ with each element from QuantizedWeight.DequantizeElement, summed in
// double (the accuracy reference). RunExact: the kernels' defined arithmetic (16-bit block-quantized activations, exact integer
// block sums, then F32), operation for operation (the bit-exact reference), written independently of the kernels' code.
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
    /// y[T, N] exactly as the kernels compute it, whatever the batch, threads or vector width. Each token's activations are quantized
    /// per block of B = w.ActivationBlock columns (<see cref="QuantizeBlock"/>: scale sx, integers q_x); per output, with D_b the exact
    /// integer sum over block b and y from +0:
    /// INT8 — D_b = Σ q·q_x, y = fma((float)D_b, sx_b, y), finally y = y·s;
    /// INT4 — D_b = Σ q·q_x − z_g·Σ q_x, y = fma((float)D_b, s_g·sx_b, y) (g the group of block b).
    /// </summary>
    public static void RunExact(ReadOnlySpan<float> x, int tokens, QuantizedWeight w, Span<float> y)
    {
        int n = w.Rows, k = w.Cols, bsz = w.ActivationBlock, blocks = k / bsz;
        var q = new int[k];
        var sx = new float[blocks];
        var sums = new int[blocks];
        for (int t = 0; t < tokens; t++)
        {
            var xt = x.Slice(t * k, k);
            for (int b = 0; b < blocks; b++)
            {
                sx[b] = QuantizeBlock(xt.Slice(b * bsz, bsz), q.AsSpan(b * bsz, bsz));
                sums[b] = 0;
                for (int i = b * bsz; i < (b + 1) * bsz; i++) sums[b] += q[i];
            }
            for (int r = 0; r < n; r++)
            {
                float acc = 0f;
                for (int b = 0; b < blocks; b++)
                {
                    int g = b * bsz / w.GroupSize;
                    long d = 0;
                    for (int i = b * bsz; i < (b + 1) * bsz; i++) d += (long)w.GetQ(r, i) * q[i];
                    float f = sx[b];
                    if (w.Scheme == QuantScheme.Int4Group)
                    {
                        d -= (long)w.GetZero(r, g) * sums[b];
                        f = w.GetScale(r, g) * sx[b];
                    }
                    acc = MathF.FusedMultiplyAdd((float)d, f, acc);
                }
                y[t * n + r] = w.Scheme == QuantScheme.Int8PerChannel ? acc * w.GetScale(r, 0) : acc;
            }
        }
    }

    /// <summary>
    /// One activation block: amax = max |x|; any Inf/NaN → q = 0, sx = NaN; amax = 0 or 32639/amax = +Inf → q = 0, sx = 0; otherwise
    /// q = round-half-even(x · (32639/amax)) and sx = amax/32639. Returns sx.
    /// </summary>
    public static float QuantizeBlock(ReadOnlySpan<float> x, Span<int> q)
    {
        const float range = 32639f;
        float amax = 0f;
        foreach (float v in x)
        {
            if (!float.IsFinite(v)) { q.Clear(); return float.NaN; }
            amax = Math.Max(amax, Math.Abs(v));
        }
        float inv = range / amax;
        if (amax == 0f || float.IsInfinity(inv)) { q.Clear(); return 0f; }
        for (int i = 0; i < x.Length; i++) q[i] = (int)MathF.Round(x[i] * inv);
        return amax / range;
    }
}
