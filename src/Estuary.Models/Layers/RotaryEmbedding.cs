// Rotary position embedding (Hugging Face rotate_half layout) applied in place to q and k.
// Invariant: a model's table comes from BuildTable, so rope_theta and rope_scaling reach every RoPE architecture the same way.
using Estuary.Models.Config;
using Estuary.Tensors;

namespace Estuary.Models.Layers;

/// <summary>RoPE with a precomputed cos/sin table.</summary>
public sealed class RotaryEmbedding(IBackend backend, RopeTable table)
{
    /// <summary>The cos/sin table.</summary>
    public RopeTable Table { get; } = table;

    /// <summary>
    /// The table of <paramref name="config"/>: θ_j = rope_theta^(-2j/head_dim), scaled by rope_scaling (<see cref="RopeScaling"/>),
    /// for the positions the model is built for (max_position_embeddings, or the serving cap the loader applied). The cap changes only
    /// the row count: llama3 scaling depends on rope_scaling.original_max_position_embeddings, not on it. Longrope (Phi-3) turns
    /// positions below original_max_position_embeddings by the short factors and later ones by the long factors, cos and sin
    /// scaled by its attention factor: transformers' choice for every sequence that stays within the original context, and for
    /// the tokens generated past it (the keys cached before keep their rotation in both); a prompt longer than the original
    /// context is the one case where transformers turns its early positions by the long factors too.
    /// </summary>
    public static RopeTable BuildTable(ModelConfig config)
    {
        // θ_j over the turned dimensions (all of D, or Phi-3's partial share of it).
        var unscaled = RopeTable.DefaultInverseFrequencies(config.RotaryDim, config.RopeTheta);
        var scaling = config.RopeScaling;
        return new RopeTable(config.MaxPositions, scaling.ScaleInverseFrequencies(unscaled), scaling.LongInverseFrequencies(unscaled),
            scaling.Type == RopeScalingType.LongRope ? scaling.OriginalMaxPositions : int.MaxValue, scaling.AttentionFactor);
    }

    /// <summary>Rotates q[T, Hq·D] and k[T, Hkv·D] in place at the batch positions.</summary>
    public void Apply(DeviceTensor q, int numHeads, DeviceTensor k, int numKvHeads, ForwardBatch batch)
    {
        backend.Rope(q, numHeads, Table, batch);
        backend.Rope(k, numKvHeads, Table, batch);
    }
}
