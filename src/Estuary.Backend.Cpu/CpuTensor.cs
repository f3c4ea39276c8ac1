// An F32 activation tensor on the CPU: a pinned float[] plus an element offset (row views share the array).
// Invariant: elements [Offset, Offset + Rows·Cols) lie inside Data; rows are contiguous with stride Cols.
using Estuary.Tensors;

namespace Estuary.Backend.Cpu;

/// <summary>A row-major F32 activation tensor in managed (pinned) memory.</summary>
public sealed class CpuTensor : DeviceTensor
{
    internal CpuTensor(float[] data, int offset, int rows, int cols)
        : base(rows, cols, DType.F32)
    {
        if (offset < 0 || (long)offset + (long)rows * cols > data.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"tensor [{rows}, {cols}] at offset {offset} lies outside its buffer of {data.Length} floats");
        Data = data;
        Offset = offset;
    }

    /// <summary>The backing array, shared with views (length ≥ Offset + Rows·Cols).</summary>
    internal float[] Data { get; }

    /// <summary>Index of element [0, 0] in <see cref="Data"/>.</summary>
    internal int Offset { get; }

    /// <summary>Number of elements Rows·Cols.</summary>
    public int Length => Rows * Cols;

    /// <summary>The elements [Rows, Cols], row-major.</summary>
    public Span<float> Span => Data.AsSpan(Offset, Length);

    /// <summary>Row <paramref name="row"/> as a span of Cols floats.</summary>
    public Span<float> Row(int row)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), $"row {row} outside tensor [{Rows}, {Cols}]");
        return Data.AsSpan(Offset + row * Cols, Cols);
    }

    /// <inheritdoc />
    public override DeviceTensor SliceRows(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Rows)
            throw new ArgumentOutOfRangeException(nameof(start), $"rows [{start}, {start + count}) outside tensor [{Rows}, {Cols}]");
        return new CpuTensor(Data, Offset + start * Cols, count, Cols);
    }
}
