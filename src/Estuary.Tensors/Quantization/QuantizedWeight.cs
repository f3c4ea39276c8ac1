// A weight-only quantized [N, K] matrix in the CPU kernels' packed layout, plus per-row/per-group F32 scales and offsets.
// Invariant: the dequantized value of every element is exactly DequantizeElement (q·s, or fma(q, s, o) with o = -z·s), which the
// kernels reproduce bit for bit; K is a multiple of 16 and of the group size.
using System.Runtime.InteropServices;

namespace Estuary.Tensors.Quantization;

/// <summary>
/// A quantized linear weight y = x·Wᵀ, W [N, K]. Layout of row n (<see cref="RowBytes"/> bytes at n·RowBytes):
/// INT8 — K signed bytes in column order; INT4 — K/2 bytes in blocks of 16 columns: byte 8b+i holds column 16b+i in its low nibble
/// and column 16b+8+i in its high nibble (so one 8-byte load widens to two 8-column vectors).
/// Scales and offsets are [N, K/G] F32; the dequantized element is q·s (INT8) or fma(q, s, o) (INT4, o = -z·s).
/// </summary>
public sealed unsafe class QuantizedWeight
{
    private readonly NativeWeightStorage _data;
    private readonly float[] _scales;  // [N, K/G]
    private readonly float[] _offsets; // [N, K/G] (empty for INT8)

    /// <summary>Allocates a zeroed quantized weight; fill it with <see cref="SetRowInt8"/> or <see cref="SetRowInt4"/>.</summary>
    public QuantizedWeight(string name, QuantScheme scheme, int rows, int cols, int groupSize)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (rows <= 0 || cols <= 0) throw new ArgumentOutOfRangeException(nameof(rows), $"quantized weight '{name}' has shape [{rows}, {cols}]");
        if (scheme == QuantScheme.Int8PerChannel) groupSize = cols;
        if (groupSize <= 0 || cols % groupSize != 0 || cols % 16 != 0 || groupSize % 16 != 0)
            throw new ArgumentException($"quantized weight '{name}': in features {cols} must be a multiple of 16 and of the group size {groupSize} (itself a multiple of 16)");
        Name = name;
        Scheme = scheme;
        Rows = rows;
        Cols = cols;
        GroupSize = groupSize;
        RowBytes = scheme == QuantScheme.Int8PerChannel ? cols : cols / 2;
        _data = new NativeWeightStorage((long)rows * RowBytes);
        _scales = new float[(long)rows * NumGroups];
        _offsets = scheme == QuantScheme.Int4Group ? new float[(long)rows * NumGroups] : [];
    }

    /// <summary>Name for error messages (the checkpoint module).</summary>
    public string Name { get; }

    /// <summary>Storage scheme.</summary>
    public QuantScheme Scheme { get; }

    /// <summary>N: output features.</summary>
    public int Rows { get; }

    /// <summary>K: input features.</summary>
    public int Cols { get; }

    /// <summary>G: input columns per scale (K for INT8 per-channel).</summary>
    public int GroupSize { get; }

    /// <summary>K/G.</summary>
    public int NumGroups => Cols / GroupSize;

    /// <summary>Packed bytes per row.</summary>
    public int RowBytes { get; }

    /// <summary>Pointer to row 0 of the packed integers ([N, RowBytes], 64-byte aligned).</summary>
    public nint Data => _data.Pointer;

    /// <summary>[N, K/G] scales.</summary>
    public ReadOnlySpan<float> Scales => _scales;

    /// <summary>[N, K/G] offsets −z·s (empty for INT8).</summary>
    public ReadOnlySpan<float> Offsets => _offsets;

    /// <summary>Resident bytes: packed integers plus scales and offsets.</summary>
    public long ByteLength => _data.ByteLength + 4L * (_scales.Length + _offsets.Length);

    /// <summary>Stores row <paramref name="row"/> of an INT8 weight: q [K] in [-127, 127] and its scale.</summary>
    public void SetRowInt8(int row, ReadOnlySpan<sbyte> q, float scale)
    {
        if (Scheme != QuantScheme.Int8PerChannel) throw new InvalidOperationException($"'{Name}' is {Scheme}, not INT8");
        CheckRow(row, q.Length);
        MemoryMarshal.AsBytes(q).CopyTo(RowSpan(row));
        _scales[row] = scale;
    }

    /// <summary>Stores row <paramref name="row"/> of an INT4 weight: q [K] in [0, 15], and per group the scale and the zero point.</summary>
    public void SetRowInt4(int row, ReadOnlySpan<byte> q, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeros)
    {
        if (Scheme != QuantScheme.Int4Group) throw new InvalidOperationException($"'{Name}' is {Scheme}, not INT4");
        CheckRow(row, q.Length);
        if (scales.Length != NumGroups || zeros.Length != NumGroups)
            throw new ArgumentException($"'{Name}': {scales.Length} scales and {zeros.Length} zeros for {NumGroups} groups");
        var dst = RowSpan(row);
        for (int b = 0; b < Cols / 16; b++)
        {
            for (int i = 0; i < 8; i++)
            {
                byte lo = q[16 * b + i], hi = q[16 * b + 8 + i];
                if ((lo | hi) > 15) throw new ArgumentOutOfRangeException(nameof(q), $"'{Name}' row {row}: 4-bit value out of range");
                dst[8 * b + i] = (byte)(lo | (hi << 4));
            }
        }
        for (int g = 0; g < NumGroups; g++)
        {
            if (zeros[g] > 15) throw new ArgumentOutOfRangeException(nameof(zeros), $"'{Name}' row {row}: zero point {zeros[g]} out of range");
            _scales[(long)row * NumGroups + g] = scales[g];
            _offsets[(long)row * NumGroups + g] = -zeros[g] * scales[g]; // exact for F16-valued scales and z ≤ 15
        }
    }

    /// <summary>The stored integer of element [row, col] (signed for INT8).</summary>
    public int GetQ(int row, int col)
    {
        var r = RowSpan(row);
        if (Scheme == QuantScheme.Int8PerChannel) return (sbyte)r[col];
        int b = col / 16, i = col % 16;
        byte v = r[8 * b + (i & 7)];
        return i < 8 ? v & 15 : v >> 4;
    }

    /// <summary>The zero point of [row, group] (0 for INT8), recovered from the offset.</summary>
    public int GetZero(int row, int group) =>
        Scheme == QuantScheme.Int8PerChannel ? 0 : (int)MathF.Round(-_offsets[(long)row * NumGroups + group] / _scales[(long)row * NumGroups + group]);

    /// <summary>The dequantized element [row, col], exactly as the kernels compute it.</summary>
    public float DequantizeElement(int row, int col)
    {
        long g = (long)row * NumGroups + col / GroupSize;
        float q = GetQ(row, col);
        return Scheme == QuantScheme.Int8PerChannel ? q * _scales[g] : MathF.FusedMultiplyAdd(q, _scales[g], _offsets[g]);
    }

    /// <summary>Row <paramref name="row"/> dequantized into <paramref name="dst"/> [K].</summary>
    public void DequantizeRow(int row, Span<float> dst)
    {
        if (dst.Length < Cols) throw new ArgumentException($"'{Name}': destination holds {dst.Length} of {Cols} columns", nameof(dst));
        for (int c = 0; c < Cols; c++) dst[c] = DequantizeElement(row, c);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} {Scheme} [{Rows}, {Cols}] g{GroupSize}";

    private Span<byte> RowSpan(int row) => new((byte*)_data.Pointer + (long)row * RowBytes, RowBytes);

    private void CheckRow(int row, int length)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), $"'{Name}': row {row} outside [0, {Rows})");
        if (length != Cols) throw new ArgumentException($"'{Name}': row of {length} values, expected {Cols}");
    }
}
