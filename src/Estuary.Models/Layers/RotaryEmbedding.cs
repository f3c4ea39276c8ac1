// Rotary position embedding (Hugging Face rotate_half layout) applied in place to q and k.
using Estuary.Tensors;

namespace Estuary.Models.Layers;

/// <summary>RoPE with a precomputed cos/sin table.</summary>
public sealed class RotaryEmbedding(IBackend backend, RopeTable table)
{
    /// <summary>The cos/sin table.</summary>
    public RopeTable Table { get; } = table;

    /// <summary>Rotates q[T, Hq·D] and k[T, Hkv·D] in place at the batch positions.</summary>
    public void Apply(DeviceTensor q, int numHeads, DeviceTensor k, int numKvHeads, ForwardBatch batch)
    {
        backend.Rope(q, numHeads, Table, batch);
        backend.Rope(k, numKvHeads, Table, batch);
    }
}
