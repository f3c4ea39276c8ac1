// SwiGLU MLP: down(silu(gate(x)) · up(x)).
using Estuary.Tensors;

namespace Estuary.Models.Layers;

/// <summary>The gated SiLU feed-forward block.</summary>
public sealed class GatedMlp(IBackend backend, ILinear gate, ILinear up, ILinear down)
{
    /// <summary>[I, H].</summary>
    public ILinear Gate { get; set; } = gate;
    /// <summary>[I, H].</summary>
    public ILinear Up { get; set; } = up;
    /// <summary>[H, I].</summary>
    public ILinear Down { get; set; } = down;

    /// <summary>y[T, H] = down(silu(gate(x)) · up(x)); gate, up, act are [T, I] scratch.</summary>
    public void Forward(DeviceTensor x, DeviceTensor gate, DeviceTensor up, DeviceTensor act, DeviceTensor y, ForwardBatch batch)
    {
        Gate.Forward(x, gate, batch);           // [T, I]
        Up.Forward(x, up, batch);               // [T, I]
        backend.SiluMul(gate, up, act);  // [T, I]
        Down.Forward(act, y, batch);            // [T, H]
    }
}
