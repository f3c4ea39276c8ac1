// Baichuan2: fused W_pack, NormHead, and RoPE (7B) or ALiBi (13B) as decided by ModelConfig (see docs/models.md).
using Estuary.Models.Config;
using Estuary.Models.Layers;
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models.Architectures;

/// <summary>Builds a Baichuan2 model.</summary>
public static class BaichuanForCausalLM
{
    /// <summary>Architecture name in config.json.</summary>
    public const string Name = "BaichuanForCausalLM";

    /// <summary>Wires the layers from <paramref name="weights"/>.</summary>
    public static CausalLm Create(ModelConfig config, WeightMap weights, IBackend backend, IProgress<int>? layerLoaded, IDisposable? owner)
    {
        RotaryEmbedding? rope = null;
        float[]? slopes = null;
        if (config.PositionEncoding == PositionEncoding.Rope)
            rope = new RotaryEmbedding(backend, RotaryEmbedding.BuildTable(config));
        else
            slopes = AlibiBias.Slopes(config.NumHeads);
        return DecoderStack.Build(config, weights, backend, rope, slopes, normHead: true, layerLoaded, owner);
    }
}
