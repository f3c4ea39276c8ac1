// The factors one adapter contributes to one linear: A [r, K], B [N, r] (rows of the module's B for a fused q/k/v), scale s.
using Estuary.Tensors;

namespace Estuary.Models.Lora;

/// <summary>y += s · (x·Aᵀ)·Bᵀ for one adapter on one linear.</summary>
internal sealed record LoraFactors(Weight A, Weight B, float Scale)
{
    /// <summary>r.</summary>
    public int Rank => A.Rows;
}
