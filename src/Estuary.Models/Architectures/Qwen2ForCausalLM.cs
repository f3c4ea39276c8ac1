// Qwen2 / Qwen2.5: the Llama decoder with biases on q_proj, k_proj and v_proj (not o_proj), usually tied embeddings in the small
// sizes, rope_theta 1e6, and sliding-window layers when use_sliding_window is set (config.Variant; see docs/models.md).
using Estuary.Models.Config;
using Estuary.Models.Layers;
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models.Architectures;

/// <summary>Builds a Qwen2-family model.</summary>
public static class Qwen2ForCausalLM
{
    /// <summary>Architecture name in config.json.</summary>
    public const string Name = "Qwen2ForCausalLM";

    /// <summary>Wires the layers from <paramref name="weights"/>.</summary>
    public static CausalLm Create(ModelConfig config, WeightMap weights, IBackend backend, IProgress<int>? layerLoaded, IDisposable? owner)
    {
        var rope = new RotaryEmbedding(backend, RotaryEmbedding.BuildTable(config));
        return DecoderStack.Build(config, weights, backend, rope, alibiSlopes: null, normHead: false, layerLoaded, owner);
    }
}
