// A read-only weight tensor kept in its stored dtype (F32/F16/BF16), pointing into a WeightStorage without copying.
// Linear weights are [N, K] row-major (y = x·wᵀ); 1-D weights (norms) are [K] with Rows = 1.
namespace Estuary.Tensors;

/// <summary>A read-only weight in its stored dtype, viewed without copying.</summary>
public sealed unsafe class Weight
{
    private readonly WeightStorage _storage;
    private readonly long _offset;

    /// <summary>Creates a view of <paramref name="storage"/> starting at <paramref name="byteOffset"/>.</summary>
    public Weight(string name, DType dtype, Shape shape, WeightStorage storage, long byteOffset)
    {
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
    }

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
        return new Weight(name ?? $"{Name}[{start}:{start + count}]", DType, new Shape(count, Cols), _storage,
            _offset + (long)start * Cols * DType.SizeOf());
    }

    /// <summary>Element i (row-major) widened to float (tests, reference kernels, load-time transforms).</summary>
    public float GetFloat(long i) => DType switch
    {
        DType.F32 => ((float*)Pointer)[i],
        DType.F16 => (float)((Half*)Pointer)[i],
        DType.BF16 => BitConverter.Int32BitsToSingle(((ushort*)Pointer)[i] << 16),
        _ => throw new InvalidOperationException($"weight '{Name}' has non-float dtype {DType}"),
    };

    /// <summary>Row <paramref name="row"/> widened to float into <paramref name="dst"/> (length Cols).</summary>
    public void ReadRow(int row, Span<float> dst)
    {
        long baseIndex = (long)row * Cols;
        for (int i = 0; i < Cols; i++) dst[i] = GetFloat(baseIndex + i);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} {DType} {Shape}";
}
