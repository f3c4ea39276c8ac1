// A dense linear layer over a stored weight [N, K] (F32/F16/BF16 kept as stored; the backend widens in registers), with an optional bias.
// Invariant: without a bias Forward is the one matmul it always was; a bias is one more backend pass over y, never a copy of it.
using Estuary.Tensors;

namespace Estuary.Models.Layers;

/// <summary>Dense y = x·Wᵀ (+ b).</summary>
public sealed class Linear(IBackend backend, Weight weight, Weight? bias = null) : ILinear
{
    /// <summary>[N, K].</summary>
    public Weight Weight { get; } = weight;

    /// <summary>[N] bias, or null.</summary>
    public Weight? Bias { get; } = bias;

    /// <inheritdoc />
    public int InFeatures => Weight.Cols;

    /// <inheritdoc />
    public int OutFeatures => Weight.Rows;

    /// <inheritdoc />
    public long WeightBytes => Weight.ByteLength + (Bias?.ByteLength ?? 0);

    /// <inheritdoc />
    public void Forward(DeviceTensor x, DeviceTensor y, ForwardBatch? batch)
    {
        backend.MatMul(x, Weight, y);                // [T, K] → [T, N]
        if (Bias is not null) backend.AddBias(y, Bias); // [T, N] += [N]
    }
}
