// Multi-head attention with GQA over the paged KV cache; RoPE or ALiBi, per-head q/k norm (Qwen3) and a sliding window
// (AttentionParams) are constructor choices.
using Estuary.Tensors;

namespace Estuary.Models.Layers;

/// <summary>Self-attention of one decoder layer.</summary>
public sealed class Attention(IBackend backend, ILinear qProj, ILinear kProj, ILinear vProj, ILinear oProj,
    AttentionParams parameters, RotaryEmbedding? rotary, HeadRmsNorm? qNorm = null, HeadRmsNorm? kNorm = null)
{
    /// <summary>[Hq·D, H].</summary>
    public ILinear QProj { get; set; } = qProj;
    /// <summary>[Hkv·D, H].</summary>
    public ILinear KProj { get; set; } = kProj;
    /// <summary>[Hkv·D, H].</summary>
    public ILinear VProj { get; set; } = vProj;
    /// <summary>[H, Hq·D].</summary>
    public ILinear OProj { get; set; } = oProj;
    /// <summary>Per-head norm of q before RoPE (Qwen3's q_norm), or null.</summary>
    public HeadRmsNorm? QNorm { get; } = qNorm;
    /// <summary>Per-head norm of k before RoPE (Qwen3's k_norm), or null.</summary>
    public HeadRmsNorm? KNorm { get; } = kNorm;
    /// <summary>Heads, scale, ALiBi slopes, sliding window.</summary>
    public AttentionParams Parameters { get; } = parameters;

    /// <summary>y[T, H] = attention(x[T, H]); q, k, v, attn are scratch of [T, Hq·D], [T, Hkv·D], [T, Hkv·D], [T, Hq·D].</summary>
    public void Forward(DeviceTensor x, KvLayer kv, ForwardBatch batch, AttentionScratch s, DeviceTensor y)
    {
        QProj.Forward(x, s.Q, batch);                                   // [T, Hq·D]
        KProj.Forward(x, s.K, batch);                                   // [T, Hkv·D]
        VProj.Forward(x, s.V, batch);                                   // [T, Hkv·D]
        QNorm?.Forward(s.Q);                                            // [T, Hq·D] per head, before RoPE
        KNorm?.Forward(s.K);                                            // [T, Hkv·D] per head, before RoPE
        rotary?.Apply(s.Q, Parameters.NumHeads, s.K, Parameters.NumKvHeads, batch);
        backend.WriteKv(s.K, s.V, kv, batch);                    // → cache slots
        backend.PagedAttention(s.Q, kv, batch, Parameters, s.Out); // [T, Hq·D]
        OProj.Forward(s.Out, y, batch);                                 // [T, H]
    }
}
