// A 2-D activation buffer [Rows, Cols] owned by a backend; Slice gives row views without copying.
// Invariant: a view never outlives its parent's backend; rows are contiguous (stride = Cols).
namespace Estuary.Tensors;

/// <summary>A row-major 2-D activation buffer living on a backend's device.</summary>
public abstract class DeviceTensor
{
    /// <summary>Creates a tensor description.</summary>
    protected DeviceTensor(int rows, int cols, DType dtype)
    {
        if (rows < 0 || cols < 0) throw new ArgumentOutOfRangeException(nameof(rows), $"negative tensor shape [{rows}, {cols}]");
        Rows = rows;
        Cols = cols;
        DType = dtype;
    }

    /// <summary>Number of rows (usually T, tokens in the step).</summary>
    public int Rows { get; }

    /// <summary>Number of columns (features).</summary>
    public int Cols { get; }

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>Shape [Rows, Cols].</summary>
    public Shape Shape => new(Rows, Cols);

    /// <summary>Rows [start, start+count) as a view sharing this tensor's memory.</summary>
    public abstract DeviceTensor SliceRows(int start, int count);

    /// <inheritdoc />
    public override string ToString() => $"{DType} [{Rows}, {Cols}]";
}
