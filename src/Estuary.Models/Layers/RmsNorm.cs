// RMSNorm: y = x / sqrt(mean(x²) + eps) · gamma.
using Estuary.Tensors;

namespace Estuary.Models.Layers;

/// <summary>Root-mean-square normalisation with a learned gain.</summary>
public sealed class RmsNorm(IBackend backend, Weight gamma, float eps)
{
    /// <summary>[H].</summary>
    public Weight Gamma { get; } = gamma;

    /// <summary>y[T, H] = rmsnorm(x[T, H]).</summary>
    public void Forward(DeviceTensor x, DeviceTensor y) => backend.RmsNorm(x, Gamma, eps, y);
}
