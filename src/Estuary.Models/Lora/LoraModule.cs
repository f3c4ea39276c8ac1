// One adapted module of a LoRA adapter: its low-rank factors and scale; delta = s · B·A ([out, in]), or its transpose.
using Estuary.Tensors;

namespace Estuary.Models.Lora;

/// <summary>
/// The LoRA factors of one module: <paramref name="A"/> [r, in] and <paramref name="B"/> [out, r], scale s. The delta added to the
/// base weight is s · B·A, transposed when <paramref name="Transposed"/> (fan_in_fan_out layers and embeddings, stored [in, out]).
/// </summary>
public sealed record LoraModule(string Name, Weight A, Weight B, float Scale, bool Transposed)
{
    /// <summary>r.</summary>
    public int Rank => A.Rows;

    /// <summary>Shape of the base tensor this delta applies to.</summary>
    public Shape DeltaShape => Transposed ? new Shape(A.Cols, B.Rows) : new Shape(B.Rows, A.Cols);
}
