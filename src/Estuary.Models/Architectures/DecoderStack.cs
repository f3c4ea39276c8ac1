// Shared wiring of a pre-norm decoder stack from a WeightMap; architectures differ only in the choices passed in and in
// config.Variant (biases inside the linears, per-head q/k norm, sliding-window layers).
using Estuary.Models.Config;
using Estuary.Models.Layers;
using Estuary.Models.Loading;
using Estuary.Models.Quantization;
using Estuary.Tensors;

namespace Estuary.Models.Architectures;

/// <summary>Builds embedding → L decoder layers → norm → head.</summary>
internal static class DecoderStack
{
    public static CausalLm Build(ModelConfig config, WeightMap weights, IBackend backend, RotaryEmbedding? rope,
        float[]? alibiSlopes, bool normHead, IProgress<int>? layerLoaded, IDisposable? owner)
    {
        var attention = new AttentionParams(config.NumHeads, config.NumKvHeads, config.HeadDim,
            1.0f / MathF.Sqrt(config.HeadDim), alibiSlopes);
        var windowed = attention with { SlidingWindow = config.Variant.SlidingWindow };
        var variant = config.Variant;
        var linears = new LinearLoader(config, weights, backend); // dense, or quantized when config.json says so
        // A tied head is built first: it may rearrange the shared table, which the embedding then reads.
        var tiedHead = weights.Reader.Contains(WeightMap.LmHeadName) ? null : linears.LmHead(normHead);
        var embedding = new Embedding(backend, tiedHead?.Linear is Linear tied ? tied.Weight : weights.Embedding());
        var layers = new DecoderLayer[config.NumLayers];
        for (int l = 0; l < config.NumLayers; l++)
        {
            var (q, k, v) = linears.Qkv(l);
            var qNorm = variant.QkNorm ? new HeadRmsNorm(backend, weights.QNorm(l), config.RmsNormEps, config.NumHeads) : null;
            var kNorm = variant.QkNorm ? new HeadRmsNorm(backend, weights.KNorm(l), config.RmsNormEps, config.NumKvHeads) : null;
            var attn = new Attention(backend, q, k, v, linears.OProj(l), variant.WindowOf(l) > 0 ? windowed : attention, rope, qNorm, kNorm);
            var (gate, up) = linears.GateUp(l);
            var mlp = new GatedMlp(backend, gate, up, linears.Down(l));
            layers[l] = new DecoderLayer(backend, new RmsNorm(backend, weights.InputNorm(l), config.RmsNormEps), attn,
                new RmsNorm(backend, weights.PostAttentionNorm(l), config.RmsNormEps), mlp);
            layerLoaded?.Report(l + 1);
        }
        var finalNorm = new RmsNorm(backend, weights.FinalNorm(), config.RmsNormEps);
        var head = tiedHead ?? linears.LmHead(normHead);
        return new CausalLm(config, backend, embedding, layers, finalNorm, head, owner);
    }
}
