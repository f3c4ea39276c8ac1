// Per-layer attention geometry handed to the backend: heads, GQA grouping, scale, optional ALiBi slopes and sliding window.
namespace Estuary.Tensors;

/// <summary>Attention geometry: Hq query heads share Hkv key/value heads (Hq / Hkv consecutive query heads per kv head).</summary>
/// <param name="NumHeads">Hq.</param>
/// <param name="NumKvHeads">Hkv; divides Hq.</param>
/// <param name="HeadDim">D.</param>
/// <param name="Scale">Score scale, usually 1/√D.</param>
/// <param name="AlibiSlopes">[Hq] ALiBi slopes (bias = slope · key position), or null for none.</param>
/// <param name="SlidingWindow">W: a query at position p attends keys p − W + 1..p only (Hugging Face's kv_idx &gt; q_idx − W);
/// 0 for full causal attention.</param>
public sealed record AttentionParams(int NumHeads, int NumKvHeads, int HeadDim, float Scale, float[]? AlibiSlopes = null, int SlidingWindow = 0);
