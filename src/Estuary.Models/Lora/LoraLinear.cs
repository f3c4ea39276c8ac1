// A linear with unmerged LoRA adapters beside it: y = x·Wᵀ, then for each adapter present in the step, its rows get s·(x·Aᵀ)·Bᵀ.
// Invariant: the base weight is shared by every request; rows of the base model (adapter 0) and of adapters that do not adapt this
// linear are exactly the base output.
using Estuary.Models.Layers;
using Estuary.Tensors;

namespace Estuary.Models.Lora;

/// <summary>Applies per-row LoRA deltas (chosen by <see cref="ForwardBatch.LoraIds"/>) on top of an inner linear.</summary>
internal sealed class LoraLinear(IBackend backend, ILinear inner, LoraFactors?[] adapters, LoraWorkspace workspace) : ILinear
{
    /// <summary>The wrapped base linear.</summary>
    public ILinear Inner { get; } = inner;

    /// <inheritdoc />
    public int InFeatures => Inner.InFeatures;

    /// <inheritdoc />
    public int OutFeatures => Inner.OutFeatures;

    /// <inheritdoc />
    public long WeightBytes => Inner.WeightBytes;

    /// <inheritdoc />
    public void Forward(DeviceTensor x, DeviceTensor y, ForwardBatch? batch)
    {
        Inner.Forward(x, y, batch);                                    // [T, N]
        if (batch == null) return;
        int t = x.Rows;
        var ids = batch.LoraIds;
        var rows = workspace.RowsFor(t);
        for (int a = 1; a < adapters.Length; a++)
        {
            var f = adapters[a];
            if (f == null) continue;
            int n = 0;
            for (int i = 0; i < t; i++) if (ids[i] == a) rows[n++] = i;
            if (n == 0) continue;
            var selected = rows.AsSpan(0, n);
            var xa = x;                                                // [n, K]
            if (n < t)
            {
                xa = workspace.Get(LoraWorkspace.Input, n, InFeatures);
                backend.GatherRows(x, selected, xa);
            }
            var down = workspace.Get(LoraWorkspace.Down, n, f.Rank);   // [n, r]
            backend.MatMul(xa, f.A, down);
            var up = workspace.Get(LoraWorkspace.Up, n, OutFeatures);  // [n, N]
            backend.MatMul(down, f.B, up);
            backend.AddRows(up, selected, f.Scale, y);                 // y[rows] += s·up
        }
    }
}
