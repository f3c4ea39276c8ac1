// AWQ on one decoder layer: search scales for qkv (folded into the input norm), gate/up (post-attention norm), down (up's rows)
// and o (v's rows and v's bias, only when o's input width equals v's output width), search clips, then quantize and pack each module.
// Invariant: works on float copies of one layer's weights; the float model the scales were folded into computes the same function.
// Biases on q/k/v/o/gate/up need nothing: an input scale (x/s)·(W·diag(s))ᵀ leaves the output, and so the bias, unchanged; per-head
// q/k norm (Qwen3) sits after q and k, whose outputs the qkv scales do not change, so the groups stay valid.
using Estuary.Models.Config;
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models.Quantization;

/// <summary>Quantizes layers one at a time.</summary>
internal sealed class AwqLayerQuantizer(ModelConfig config, WeightMap map, AwqSearch search, AwqOptions options)
{
    private sealed record Module(string Name, float[] W, int N, int K);

    public AwqLayerResult Quantize(int layer, LayerActivations stats)
    {
        int qDim = config.NumHeads * config.HeadDim, kvDim = config.NumKvHeads * config.HeadDim;
        Module Load(LinearRole role)
        {
            string name = map.Module(layer, role);
            var w = map.Reader.Load(name + ".weight");
            var data = new float[w.Shape.NumElements];
            for (int r = 0; r < w.Rows; r++) w.ReadRow(r, data.AsSpan(r * w.Cols, w.Cols));
            return new Module(name, data, w.Rows, w.Cols);
        }
        var qkv = config.FusedQkv ? [Load(LinearRole.Qkv)] : new[] { Load(LinearRole.Q), Load(LinearRole.K), Load(LinearRole.V) };
        var o = Load(LinearRole.O);
        // Phi-3's fused gate_up_proj is one module (gate rows, then up rows), scaled and packed whole, as AutoAWQ treats it.
        var gateUp = config.FusedGateUp ? [Load(LinearRole.GateUp)] : new[] { Load(LinearRole.Gate), Load(LinearRole.Up) };
        var (up, upRows) = config.FusedGateUp ? (gateUp[0], config.IntermediateSize) : (gateUp[1], 0);
        var down = Load(LinearRole.Down);
        var inNorm = map.InputNorm(layer);
        var postNorm = map.PostAttentionNorm(layer);
        var inGamma = Floats(inNorm);
        var postGamma = Floats(postNorm);

        // qkv: x·Wᵀ = (x/s)·(W·diag(s))ᵀ with x/s produced by the input norm.
        var s1 = search.SearchScales(stats.Qkv, [.. qkv.Select(m => (m.W, m.N))]);
        foreach (var m in qkv) ScaleColumns(m, s1);
        for (int i = 0; i < inGamma.Length; i++) inGamma[i] /= s1[i];
        var s2 = search.SearchScales(stats.GateUp, [.. gateUp.Select(m => (m.W, m.N))]);
        foreach (var m in gateUp) ScaleColumns(m, s2);
        for (int i = 0; i < postGamma.Length; i++) postGamma[i] /= s2[i];
        // down: act = silu(gate)·up, so dividing up's output rows by s divides act by s.
        var s3 = search.SearchScales(stats.Down, [(down.W, down.N)]);
        ScaleColumns(down, s3);
        ScaleRows(up, upRows, s3);
        var folded = new Dictionary<string, float[]>(StringComparer.Ordinal) { [inNorm.Name] = inGamma, [postNorm.Name] = postGamma };
        float[]? s4 = null;
        if (qDim == kvDim)
        {
            // o after v: the attention output is a convex mix of v rows per head, so scaling v's outputs by 1/s scales o's input.
            // v's outputs include its bias, which is scaled with its rows.
            s4 = search.SearchScales(stats.O, [(o.W, o.N)]);
            ScaleColumns(o, s4);
            var v = config.FusedQkv ? qkv[0] : qkv[2];
            ScaleRows(v, config.FusedQkv ? qDim + kvDim : 0, s4);
            if (!config.FusedQkv && map.Bias(layer, LinearRole.V) is { } vBias)
            {
                var scaled = Floats(vBias);
                for (int j = 0; j < scaled.Length; j++) scaled[j] /= s4[j];
                folded[vBias.Name] = scaled;
            }
        }

        var modules = new Dictionary<string, AwqModule>(StringComparer.Ordinal);
        var xQkv = Scaled(stats.Qkv.MeanSquare(), s1);
        // q and k are not clipped (attention logits amplify their errors), as in AutoAWQ; fused qkv clips only its v rows.
        foreach (var m in qkv)
        {
            int clipFrom = config.FusedQkv ? qDim + kvDim : ReferenceEquals(m, qkv[2]) ? 0 : m.N;
            modules[m.Name] = Pack(m, xQkv, clipFrom);
        }
        modules[o.Name] = Pack(o, Scaled(stats.O.MeanSquare(), s4), 0);
        var xGateUp = Scaled(stats.GateUp.MeanSquare(), s2);
        foreach (var m in gateUp) modules[m.Name] = Pack(m, xGateUp, 0);
        modules[down.Name] = Pack(down, Scaled(stats.Down.MeanSquare(), s3), 0);
        return new AwqLayerResult(layer, modules, folded);
    }

    /// <summary>Clip search on rows [clipFrom, N), then INT4 quantization and AutoAWQ packing.</summary>
    private AwqModule Pack(Module m, float[] meanSquare, int clipFrom)
    {
        int n = m.N, k = m.K, g = options.GroupSize, groups = k / g;
        if (k % g != 0 || n % 8 != 0) throw new NotSupportedException($"'{m.Name}' [{n}, {k}]: AWQ needs out features divisible by 8 and in features by the group size {g}");
        float[]? clips = null;
        if (options.SearchClip && clipFrom < n)
        {
            var part = search.SearchClip(m.W[(clipFrom * k)..], n - clipFrom, k, meanSquare);
            clips = new float[n * groups];
            Array.Fill(clips, float.PositiveInfinity);
            part.CopyTo(clips, clipFrom * groups);
        }
        var q = new byte[n * k];       // [N, K]
        var zeros = new byte[n * groups];
        var scales = new Half[n * groups];
        for (int r = 0; r < n; r++)
        {
            for (int gi = 0; gi < groups; gi++)
            {
                var (s, z) = Int4Quantizer.QuantizeGroup(m.W.AsSpan(r * k + gi * g, g), q.AsSpan(r * k + gi * g, g),
                    clips?[r * groups + gi] ?? float.PositiveInfinity);
                scales[r * groups + gi] = s;
                zeros[r * groups + gi] = z;
            }
        }
        var qweight = new int[k * (n / 8)];  // [K, N/8]
        var column = new byte[n];
        for (int i = 0; i < k; i++)
        {
            for (int r = 0; r < n; r++) column[r] = q[r * k + i];
            AwqPacking.PackRow(column, qweight.AsSpan(i * (n / 8), n / 8));
        }
        var qzeros = new int[groups * (n / 8)]; // [K/G, N/8]
        var packedScales = new Half[groups * n]; // [K/G, N]
        for (int gi = 0; gi < groups; gi++)
        {
            for (int r = 0; r < n; r++)
            {
                column[r] = zeros[r * groups + gi];
                packedScales[gi * n + r] = scales[r * groups + gi];
            }
            AwqPacking.PackRow(column, qzeros.AsSpan(gi * (n / 8), n / 8));
        }
        return new AwqModule(qweight, qzeros, packedScales);
    }

    private static float[] Floats(Weight w)
    {
        var a = new float[w.Shape.NumElements];
        for (long i = 0; i < a.LongLength; i++) a[i] = w.GetFloat(i);
        return a;
    }

    private static void ScaleColumns(Module m, float[] s)
    {
        for (int r = 0; r < m.N; r++)
            for (int i = 0; i < m.K; i++) m.W[r * m.K + i] *= s[i];
    }

    private static void ScaleRows(Module m, int firstRow, float[] s)
    {
        for (int j = 0; j < s.Length; j++)
            for (int i = 0; i < m.K; i++) m.W[(firstRow + j) * m.K + i] /= s[j];
    }

    /// <summary>Mean square of x/s per channel (the input the scaled weight sees).</summary>
    private static float[] Scaled(float[] meanSquare, float[]? s)
    {
        if (s is null) return meanSquare;
        var r = new float[meanSquare.Length];
        for (int i = 0; i < r.Length; i++) r[i] = meanSquare[i] / (s[i] * s[i]);
        return r;
    }
}
