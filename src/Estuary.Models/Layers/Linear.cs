// A dense linear layer over a stored weight [N, K] (F32/F16/BF16 kept as stored; the backend widens in registers).
using Estuary.Tensors;

namespace Estuary.Models.Layers;

/// <summary>Dense y = x·Wᵀ, no bias.</summary>
public sealed class Linear(IBackend backend, Weight weight) : ILinear
{
    /// <summary>[N, K].</summary>
    public Weight Weight { get; } = weight;

    /// <inheritdoc />
    public int InFeatures => Weight.Cols;

    /// <inheritdoc />
    public int OutFeatures => Weight.Rows;

    /// <inheritdoc />
    public long WeightBytes => Weight.ByteLength;

    /// <inheritdoc />
    public void Forward(DeviceTensor x, DeviceTensor y, ForwardBatch? batch) => backend.MatMul(x, Weight, y); // [T, K] → [T, N]
}
