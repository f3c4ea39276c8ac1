// A linear with unmerged LoRA adapters beside it: y = x·Wᵀ, then for each adapter present in the step, its rows get s·(x·Aᵀ)·Bᵀ —
// all adapters in one backend call where the backend has one (TryAddLoraDeltas), else four operations per adapter.
// Invariant: the base weight is shared by every request; rows of the base model (adapter 0) and of adapters that do not adapt this
// linear are exactly the base output. Slots (index = adapter id) are written by LoraSet only between forward passes.
using Estuary.Models.Layers;
using Estuary.Tensors;

namespace Estuary.Models.Lora;

/// <summary>Applies per-row LoRA deltas (chosen by <see cref="ForwardBatch.LoraIds"/>) on top of an inner linear.</summary>
internal sealed class LoraLinear(IBackend backend, ILinear inner, LoraFactors?[] adapters, LoraWorkspace workspace) : ILinear
{
    /// <summary>Each adapter id's factors for this linear (index 0, the base model, and free or unadapting slots: null).</summary>
    public LoraFactors?[] Slots { get; } = adapters;

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
        var slots = Slots;
        var segments = workspace.SegmentsFor(slots.Length);
        int used = 0, count = 0;
        for (int a = 1; a < slots.Length; a++)
        {
            var f = slots[a];
            if (f == null) continue;
            int start = used;
            for (int i = 0; i < t; i++) if (ids[i] == a) rows[used++] = i;
            if (used > start) segments[count++] = new LoraSegment(start, used - start, f.A, f.B, f.Scale);
        }
        if (count == 0) return;
        if (backend.TryAddLoraDeltas(x, rows.AsSpan(0, used), segments.AsSpan(0, count), y)) return;
        foreach (var s in segments.AsSpan(0, count))
        {
            var selected = rows.AsSpan(s.Start, s.Count);
            var xa = x;                                                // [n, K]
            if (s.Count < t)
            {
                xa = workspace.Get(LoraWorkspace.Input, s.Count, InFeatures);
                backend.GatherRows(x, selected, xa);
            }
            var down = workspace.Get(LoraWorkspace.Down, s.Count, s.A.Rows); // [n, r]
            backend.MatMul(xa, s.A, down);
            var up = workspace.Get(LoraWorkspace.Up, s.Count, OutFeatures);   // [n, N]
            backend.MatMul(down, s.B, up);
            backend.AddRows(up, selected, s.Scale, y);                 // y[rows] += s·up
        }
    }
}
