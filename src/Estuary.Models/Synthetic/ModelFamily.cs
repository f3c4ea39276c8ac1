// The checkpoint layouts a synthetic model can be written in.
namespace Estuary.Models.Synthetic;

/// <summary>The Hugging Face architecture (config keys and tensor names) of a synthetic checkpoint.</summary>
public enum ModelFamily
{
    /// <summary><c>LlamaForCausalLM</c>: separate q/k/v projections, grouped-query attention, RoPE.</summary>
    Llama,
    /// <summary><c>MistralForCausalLM</c>: the Llama layout under Mistral's config keys (v0.3: <c>sliding_window</c> null).</summary>
    Mistral,
    /// <summary><c>Qwen2ForCausalLM</c> (Qwen2.5): the Llama layout with q/k/v biases.</summary>
    Qwen2,
    /// <summary><c>Qwen3ForCausalLM</c>: the Llama layout with per-head q/k norms and an explicit head_dim.</summary>
    Qwen3,
    /// <summary><c>BaichuanForCausalLM</c> (Baichuan2): fused <c>W_pack</c>, NormHead, RoPE (7B) or ALiBi (13B).</summary>
    Baichuan,
    /// <summary>
    /// <c>Phi3ForCausalLM</c> (Phi-3, Phi-3.5-mini, Phi-4-mini): fused <c>qkv_proj</c> and <c>gate_up_proj</c>, a sliding window or
    /// none, and optionally partial rotary with longrope scaling.
    /// </summary>
    Phi3,
}
