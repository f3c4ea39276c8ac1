// How a model encodes token positions in attention.
namespace Estuary.Models.Config;

/// <summary>Position encoding of an attention layer.</summary>
public enum PositionEncoding
{
    /// <summary>Rotary embeddings (Llama, Baichuan2-7B).</summary>
    Rope,
    /// <summary>Attention biases linear in the key position (Baichuan2-13B).</summary>
    Alibi,
}
