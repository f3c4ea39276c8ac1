// The AWQ search: per-input-channel scales s = mean|x|^α (normalised), α on a grid minimising the group's output error after
// INT4 group quantization of W·diag(s); and per-group clip ranges minimising Σ_k E[x_k²]·(w_k − q(w_k))².
// Invariant: scaling is an identity on the float model (x/s · (W·s)ᵀ = x·Wᵀ); only the quantization error changes.
using Estuary.Tensors;

namespace Estuary.Models.Quantization;

/// <summary>AWQ scale and clip search on float weights held in host arrays.</summary>
public sealed class AwqSearch(IBackend backend, AwqOptions options)
{
    /// <summary>Best scales [K] for linears <paramref name="weights"/> (each [N_i, K]) sharing the input described by <paramref name="x"/>.</summary>
    public float[] SearchScales(ActivationStats x, IReadOnlyList<(float[] W, int N)> weights)
    {
        int k = x.InFeatures, rows = x.NumSampleRows;
        var meanAbs = x.MeanAbs();
        var input = backend.Allocate(rows, k);       // [R, K]
        backend.Upload(x.Sample, input);
        var scaled = backend.Allocate(rows, k);      // [R, K] x / s
        var reference = weights.Select(w => Run(input, w.W, w.N, k)).ToList(); // [R, N_i] float outputs
        float best = float.PositiveInfinity;
        float[] bestScales = [.. Enumerable.Repeat(1f, k)];
        var host = new float[rows * k];
        var sample = x.Sample.ToArray();
        for (int step = 0; step < options.ScaleGrid; step++)
        {
            float alpha = step / (float)options.ScaleGrid;
            var s = Scales(meanAbs, alpha);
            for (int r = 0; r < rows; r++)
                for (int i = 0; i < k; i++) host[r * k + i] = sample[r * k + i] / s[i];
            backend.Upload(host, scaled);
            double err = 0;
            for (int j = 0; j < weights.Count; j++)
            {
                var (w, n) = weights[j];
                var q = new float[w.Length];
                for (int o = 0; o < n; o++)
                {
                    var row = q.AsSpan(o * k, k);
                    for (int i = 0; i < k; i++) row[i] = w[o * k + i] * s[i];
                    Int4Quantizer.FakeQuantizeRow(row, options.GroupSize);
                }
                var y = Run(scaled, q, n, k);
                var yr = reference[j];
                for (int i = 0; i < y.Length; i++) err += (double)(y[i] - yr[i]) * (y[i] - yr[i]);
            }
            if (err < best)
            {
                best = (float)err;
                bestScales = s;
            }
        }
        return bestScales;
    }

    /// <summary>Per-group clip bounds [N, K/G] for w [N, K] whose (already scaled) input has mean square <paramref name="meanSquare"/> [K].</summary>
    public float[] SearchClip(float[] w, int n, int k, ReadOnlySpan<float> meanSquare)
    {
        int g = options.GroupSize, groups = k / g;
        var clips = new float[n * groups];
        Span<byte> q = stackalloc byte[g];
        Span<float> deq = stackalloc float[g];
        for (int o = 0; o < n; o++)
        {
            for (int gi = 0; gi < groups; gi++)
            {
                var group = w.AsSpan(o * k + gi * g, g);
                float max = 0;
                foreach (var v in group) max = Math.Max(max, Math.Abs(v));
                double bestErr = double.PositiveInfinity;
                float bestClip = float.PositiveInfinity;
                for (int step = 0; step < 10; step++)
                {
                    float clip = step == 0 ? float.PositiveInfinity : max * (1 - 0.05f * step);
                    var (s, z) = Int4Quantizer.QuantizeGroup(group, q, clip);
                    Int4Quantizer.DequantizeGroup(q, s, z, deq);
                    double err = 0;
                    for (int i = 0; i < g; i++) err += meanSquare[gi * g + i] * (double)(group[i] - deq[i]) * (group[i] - deq[i]);
                    if (err < bestErr) { bestErr = err; bestClip = clip; }
                }
                clips[o * groups + gi] = bestClip;
            }
        }
        return clips;
    }

    /// <summary>AutoAWQ's scale rule: mean|x|^α clamped at 1e-4, normalised by sqrt(max·min).</summary>
    public static float[] Scales(ReadOnlySpan<float> meanAbs, float alpha)
    {
        var s = new float[meanAbs.Length];
        for (int i = 0; i < s.Length; i++) s[i] = MathF.Max(MathF.Pow(meanAbs[i], alpha), 1e-4f);
        float norm = MathF.Sqrt(s.Max() * s.Min());
        for (int i = 0; i < s.Length; i++) s[i] /= norm;
        return s;
    }

    private unsafe float[] Run(DeviceTensor x, float[] w, int n, int k)
    {
        using var storage = new NativeWeightStorage((long)w.Length * 4);
        w.AsSpan().CopyTo(new Span<float>((void*)storage.Pointer, w.Length));
        var weight = new Weight("awq-search", DType.F32, new Shape(n, k), storage, 0);
        var y = backend.Allocate(x.Rows, n);
        backend.MatMul(x, weight, y);
        var host = new float[x.Rows * n];
        backend.Download(y, host);
        return host;
    }
}
