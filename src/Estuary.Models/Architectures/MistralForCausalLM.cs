// Mistral: the Llama decoder with an explicit head_dim and a sliding window on every layer when sliding_window is set (4096 in
// v0.1; null in v0.2 and v0.3), attended exactly: a query at p sees keys p − W + 1..p (config.Variant; see docs/models.md).
using Estuary.Models.Config;
using Estuary.Models.Layers;
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models.Architectures;

/// <summary>Builds a Mistral model.</summary>
public static class MistralForCausalLM
{
    /// <summary>Architecture name in config.json.</summary>
    public const string Name = "MistralForCausalLM";

    /// <summary>Wires the layers from <paramref name="weights"/>.</summary>
    public static CausalLm Create(ModelConfig config, WeightMap weights, IBackend backend, IProgress<int>? layerLoaded, IDisposable? owner)
    {
        var rope = new RotaryEmbedding(backend, RotaryEmbedding.BuildTable(config));
        return DecoderStack.Build(config, weights, backend, rope, alibiSlopes: null, normHead: false, layerLoaded, owner);
    }
}
