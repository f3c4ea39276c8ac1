// A linear map y = x·Wᵀ; quantized and LoRA variants implement the same contract, so models never branch on them.
using Estuary.Tensors;

namespace Estuary.Models.Layers;

/// <summary>y[T, N] = x[T, K] · W[N, K]ᵀ.</summary>
public interface ILinear
{
    /// <summary>K.</summary>
    int InFeatures { get; }

    /// <summary>N.</summary>
    int OutFeatures { get; }

    /// <summary>Resident bytes of the weights.</summary>
    long WeightBytes { get; }

    /// <summary>y[T, N] = x[T, K] · Wᵀ; <paramref name="batch"/> describes the rows (per-row adapters, positions) and is
    /// null when the rows are not the step's tokens (the LM head over gathered rows).</summary>
    void Forward(DeviceTensor x, DeviceTensor y, ForwardBatch? batch);
}
