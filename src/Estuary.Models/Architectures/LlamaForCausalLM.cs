// Llama: RoPE (with rope_scaling: linear or llama3), separate q/k/v projections with grouped-query attention, tied or untied embeddings,
// and the attention_bias (q, k, v, o) and mlp_bias (gate, up, down) config keys (config.Variant). Qwen2, Qwen3 and Mistral are built
// here too (ModelRegistry): their differences (biases, per-head q/k norm, sliding windows) are config.Variant choices.
using Estuary.Models.Config;
using Estuary.Models.Layers;
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models.Architectures;

/// <summary>Builds a Llama-family model.</summary>
public static class LlamaForCausalLM
{
    /// <summary>Architecture name in config.json.</summary>
    public const string Name = "LlamaForCausalLM";

    /// <summary>Wires the layers from <paramref name="weights"/>.</summary>
    public static CausalLm Create(ModelConfig config, WeightMap weights, IBackend backend, IProgress<int>? layerLoaded, IDisposable? owner)
    {
        var rope = new RotaryEmbedding(backend, RotaryEmbedding.BuildTable(config));
        return DecoderStack.Build(config, weights, backend, rope, alibiSlopes: null, normHead: false, layerLoaded, owner);
    }
}
