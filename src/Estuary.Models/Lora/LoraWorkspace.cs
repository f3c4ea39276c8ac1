// Scratch activations shared by every LoRA linear of a model (the forward runs one linear at a time, so they can share).
// Invariant: buffers are keyed by (role, width) and only grow (doubling rows); a step after warm-up allocates nothing.
using Estuary.Tensors;

namespace Estuary.Models.Lora;

/// <summary>Reusable [n, width] buffers, a row-index list for the per-adapter gather and the per-adapter segments.</summary>
internal sealed class LoraWorkspace(IBackend backend)
{
    /// <summary>Gathered input rows [n, K].</summary>
    public const int Input = 0;
    /// <summary>x·Aᵀ [n, r].</summary>
    public const int Down = 1;
    /// <summary>(x·Aᵀ)·Bᵀ [n, N].</summary>
    public const int Up = 2;

    private readonly Dictionary<(int Role, int Cols), DeviceTensor> _buffers = [];

    /// <summary>Row indices of the current adapter's tokens [T].</summary>
    public int[] Rows { get; private set; } = [];

    /// <summary>Ensures <see cref="Rows"/> holds at least <paramref name="numTokens"/> entries.</summary>
    public int[] RowsFor(int numTokens)
    {
        if (Rows.Length < numTokens) Rows = new int[Math.Max(numTokens, Rows.Length * 2)];
        return Rows;
    }

    /// <summary>The current linear's adapter segments (one per adapter present in the step).</summary>
    public LoraSegment[] Segments { get; private set; } = [];

    /// <summary>Ensures <see cref="Segments"/> holds at least <paramref name="count"/> entries.</summary>
    public LoraSegment[] SegmentsFor(int count)
    {
        if (Segments.Length < count) Segments = new LoraSegment[count];
        return Segments;
    }

    /// <summary>A [rows, cols] view of the buffer for <paramref name="role"/>.</summary>
    public DeviceTensor Get(int role, int rows, int cols)
    {
        if (!_buffers.TryGetValue((role, cols), out var buffer) || buffer.Rows < rows)
        {
            buffer = backend.Allocate(Math.Max(rows, (buffer?.Rows ?? 0) * 2), cols);
            _buffers[(role, cols)] = buffer;
        }
        return buffer.SliceRows(0, rows);
    }
}
