// A read-only weight tensor kept in its stored dtype (F32/F16/BF16), pointing into a WeightStorage without copying.
// Linear weights are [N, K] (y = x·wᵀ), row-major as stored or rearranged by a backend (see WeightLayout); 1-D weights
// (norms) are [K] with Rows = 1. Element accessors (GetFloat, ReadRow) always speak row-major indices, whatever the layout.
namespace Estuary.Tensors;

/// <summary>How a 2-D weight's elements are arranged in memory.</summary>
public enum WeightLayout
{
    /// <summary>[N, K] row-major, as checkpoints store it.</summary>
    RowMajor,

    /// <summary>
    /// Blocks of 16 output rows interleaved by input feature: for b &lt; N/16, element (k, j) of block b, i.e. w[16b + j, k], is at
    /// b·16K + 16k + j, so a matmul reads 16 outputs' weights for one k as one contiguous vector; the N mod 16 tail rows follow
    /// row-major. Same elements as row-major, rearranged (F16 ones possibly re-encoded, see Weight.IsShiftedHalf).
    /// </summary>
    Interleaved16,
}

/// <summary>A read-only weight in its stored dtype, viewed without copying.</summary>
public sealed unsafe class Weight
{
    private readonly WeightStorage _storage;
    private readonly long _offset;

    /// <summary>Creates a view of <paramref name="storage"/> starting at <paramref name="byteOffset"/>.</summary>
    public Weight(string name, DType dtype, Shape shape, WeightStorage storage, long byteOffset, WeightLayout layout = WeightLayout.RowMajor)
    {
        if (layout != WeightLayout.RowMajor && shape.Rank != 2)
            throw new ArgumentException($"weight '{name}': layout {layout} needs a 2-D weight, got {shape}", nameof(layout));
        if (shape.Rank is < 1 or > 2)
            throw new ArgumentException($"weight '{name}' has rank {shape.Rank}; only 1-D and 2-D weights are supported", nameof(shape));
        long bytes = shape.NumElements * dtype.SizeOf();
        if (byteOffset < 0 || byteOffset + bytes > storage.ByteLength)
            throw new ArgumentException($"weight '{name}' ({bytes} bytes at offset {byteOffset}) lies outside its storage ({storage.ByteLength} bytes)");
        Name = name;
        DType = dtype;
        Shape = shape;
        _storage = storage;
        _offset = byteOffset;
        Layout = layout;
    }

    /// <summary>Memory arrangement of the elements.</summary>
    public WeightLayout Layout { get; }

    /// <summary>
    /// True when a backend has checked that no element is Inf or NaN (set when it rearranges an F16 weight), which lets its kernels
    /// widen F16 without the Inf/NaN fix-up; false means unknown.
    /// </summary>
    public bool KnownFinite { get; init; }

    /// <summary>
    /// True when an F16 weight's elements are stored as <see cref="Tensors.ShiftedHalf"/> codes (set by a backend that re-encodes a
    /// finite F16 weight whose values are all below 128 in magnitude); element accessors decode them to the same values.
    /// </summary>
    public bool IsShiftedHalf { get; init; }

    /// <summary>Checkpoint name (for error messages).</summary>
    public string Name { get; }

    /// <summary>Stored element type.</summary>
    public DType DType { get; }

    /// <summary>[N, K] or [K].</summary>
    public Shape Shape { get; }

    /// <summary>Output features N (1 for a 1-D weight).</summary>
    public int Rows => Shape.Rank == 2 ? checked((int)Shape[0]) : 1;

    /// <summary>Input features K (the length of a 1-D weight).</summary>
    public int Cols => checked((int)Shape[Shape.Rank - 1]);

    /// <summary>Pointer to element [0, 0].</summary>
    public nint Pointer => _storage.Pointer + (nint)_offset;

    /// <summary>Total bytes.</summary>
    public long ByteLength => Shape.NumElements * DType.SizeOf();

    /// <summary>The storage this weight points into.</summary>
    public WeightStorage Storage => _storage;

    /// <summary>Raw bytes (weights under 2 GiB).</summary>
    public ReadOnlySpan<byte> Bytes => new((void*)Pointer, checked((int)ByteLength));

    /// <summary>Rows [start, start+count) of a 2-D weight, without copying (splits fused W_pack into q, k, v).</summary>
    public Weight SliceRows(int start, int count, string? name = null)
    {
        if (Shape.Rank != 2 || start < 0 || count < 0 || start + count > Rows)
            throw new ArgumentOutOfRangeException(nameof(start), $"rows [{start}, {start + count}) outside weight '{Name}' {Shape}");
        if (Layout != WeightLayout.RowMajor)
            throw new InvalidOperationException($"weight '{Name}' is in layout {Layout}; slice it before the backend rearranges it");
        return new Weight(name ?? $"{Name}[{start}:{start + count}]", DType, new Shape(count, Cols), _storage,
            _offset + (long)start * Cols * DType.SizeOf());
    }

    /// <summary>Element i (row-major) widened to float (tests, reference kernels, load-time transforms).</summary>
    public float GetFloat(long i)
    {
        long p = StoredIndex(i);
        return DType switch
        {
            DType.F32 => ((float*)Pointer)[p],
            DType.F16 => IsShiftedHalf ? ShiftedHalf.Decode(((ushort*)Pointer)[p]) : (float)((Half*)Pointer)[p],
            DType.BF16 => BitConverter.Int32BitsToSingle(((ushort*)Pointer)[p] << 16),
            _ => throw new InvalidOperationException($"weight '{Name}' has non-float dtype {DType}"),
        };
    }

    /// <summary>Where row-major element <paramref name="i"/> is stored under <see cref="Layout"/>.</summary>
    public long StoredIndex(long i)
    {
        if (Layout == WeightLayout.RowMajor) return i;
        long k = Cols, r = i / k, c = i - r * k;
        long blockedRows = Rows / 16 * 16;
        return r < blockedRows ? (r / 16) * 16 * k + c * 16 + (r % 16) : i;
    }

    /// <summary>Row <paramref name="row"/> widened to float into <paramref name="dst"/> (length Cols).</summary>
    public void ReadRow(int row, Span<float> dst)
    {
        long baseIndex = (long)row * Cols;
        for (int i = 0; i < Cols; i++) dst[i] = GetFloat(baseIndex + i);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} {DType} {Shape}";
}
