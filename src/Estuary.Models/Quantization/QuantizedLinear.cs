// A linear layer over a weight-only quantized weight; the backend multiplies the packed integers directly, so no float copy exists at run time.
// A bias stays in its stored float dtype (quantization never touches it).
using Estuary.Models.Layers;
using Estuary.Tensors;
using Estuary.Tensors.Quantization;

namespace Estuary.Models.Quantization;

/// <summary>y = x·deq(W)ᵀ (+ b) with W stored as INT8 or INT4.</summary>
public sealed class QuantizedLinear(IBackend backend, QuantizedWeight weight, Weight? bias = null) : ILinear
{
    /// <summary>[N, K] packed.</summary>
    public QuantizedWeight Weight { get; } = weight;

    /// <summary>[N] float bias, or null.</summary>
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
