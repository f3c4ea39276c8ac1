// Maps config.json architecture names to model builders.
using Estuary.Models.Architectures;
using Estuary.Models.Config;
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models;

/// <summary>Architecture name → builder.</summary>
public static class ModelRegistry
{
    /// <summary>Builds a model from weights.</summary>
    public delegate CausalLm Builder(ModelConfig config, WeightMap weights, IBackend backend, IProgress<int>? layerLoaded, IDisposable? owner);

    private static readonly Dictionary<string, Builder> s_builders = new(StringComparer.Ordinal)
    {
        [LlamaForCausalLM.Name] = LlamaForCausalLM.Create,
        [BaichuanForCausalLM.Name] = BaichuanForCausalLM.Create,
        // Qwen2/Qwen2.5 (q/k/v biases), Qwen3 (per-head q/k norm) and Mistral (sliding windows) are the Llama decoder with the parts
        // their config.json selects (ModelConfig.Variant, read by DecoderVariant; see docs/models.md), so they share its builder.
        ["Qwen2ForCausalLM"] = LlamaForCausalLM.Create,
        ["Qwen3ForCausalLM"] = LlamaForCausalLM.Create,
        ["MistralForCausalLM"] = LlamaForCausalLM.Create,
        // Phi-3 is the Llama decoder with fused qkv_proj and gate_up_proj (ModelConfig.FusedQkv/FusedGateUp), partial rotary and longrope.
        [Config.ModelConfig.Phi3Architecture] = LlamaForCausalLM.Create,
    };

    /// <summary>Supported architecture names.</summary>
    public static IReadOnlyCollection<string> Architectures => s_builders.Keys;

    /// <summary>The builder for <paramref name="architecture"/>; throws naming the supported ones if unknown.</summary>
    public static Builder Get(string architecture) => s_builders.TryGetValue(architecture, out var b)
        ? b
        : throw new NotSupportedException($"unknown architecture '{architecture}' (supported: {string.Join(", ", s_builders.Keys)})");
}
