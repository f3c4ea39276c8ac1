// Per-head RMSNorm applied in place to q or k (Qwen3's q_norm / k_norm): each head's D values normalised with one shared gain [D].
using Estuary.Tensors;

namespace Estuary.Models.Layers;

/// <summary>x[T, heads·D] ← per-head rmsnorm(x) · gamma[D].</summary>
public sealed class HeadRmsNorm(IBackend backend, Weight gamma, float eps, int numHeads)
{
    /// <summary>[D].</summary>
    public Weight Gamma { get; } = gamma;

    /// <summary>Normalises every head of <paramref name="x"/> ([T, heads·D]) in place.</summary>
    public void Forward(DeviceTensor x) => backend.RmsNormHeads(x, numHeads, Gamma, eps);
}
