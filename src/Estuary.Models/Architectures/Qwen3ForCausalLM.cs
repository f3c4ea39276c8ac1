// Qwen3 (dense): the Llama decoder with an explicit head_dim (q may be wider than hidden), per-head RMSNorm of q and k
// (self_attn.q_norm / k_norm) before RoPE, biases only with attention_bias, and Qwen2's sliding-window rule (config.Variant).
using Estuary.Models.Config;
using Estuary.Models.Layers;
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models.Architectures;

/// <summary>Builds a Qwen3 model.</summary>
public static class Qwen3ForCausalLM
{
    /// <summary>Architecture name in config.json.</summary>
    public const string Name = "Qwen3ForCausalLM";

    /// <summary>Wires the layers from <paramref name="weights"/>.</summary>
    public static CausalLm Create(ModelConfig config, WeightMap weights, IBackend backend, IProgress<int>? layerLoaded, IDisposable? owner)
    {
        var rope = new RotaryEmbedding(backend, RotaryEmbedding.BuildTable(config));
        return DecoderStack.Build(config, weights, backend, rope, alibiSlopes: null, normHead: false, layerLoaded, owner);
    }
}
