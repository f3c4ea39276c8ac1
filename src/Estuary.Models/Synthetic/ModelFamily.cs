// The checkpoint layouts a synthetic model can be written in.
namespace Estuary.Models.Synthetic;

/// <summary>The Hugging Face architecture (config keys and tensor names) of a synthetic checkpoint.</summary>
public enum ModelFamily
{
    /// <summary><c>LlamaForCausalLM</c>: separate q/k/v projections, grouped-query attention, RoPE.</summary>
    Llama,
    /// <summary><c>BaichuanForCausalLM</c> (Baichuan2): fused <c>W_pack</c>, NormHead, RoPE (7B) or ALiBi (13B).</summary>
    Baichuan,
}
