// A weight-only quantized [N, K] matrix in the CPU kernels' interleaved layout (16 output rows per block, rows padded with zeros
// to whole 64-row units), laid out for integer dot products (AVX-VNNI vpdpbusd: 4 unsigned bytes of one row per 32-bit lane),
// plus scales (F32 per row for INT8; per row and group for INT4, F16 values held as F32, with byte zero points) as 16-lane vectors.
// Invariant: the value of every element is DequantizeElement (q·s, or (q − z)·s); the kernels compute the integer sums that the
// CPU backend's QuantizedMatMulReference.RunExact spells out; K is a multiple of 16 and of the group size.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Estuary.Tensors.Quantization;

/// <summary>
/// A quantized linear weight y = x·Wᵀ, W [N, K], stored as <see cref="PaddedRows"/>/16 blocks of <see cref="BlockBytes"/> bytes.
/// Block b holds rows 16b..16b+15 (row 16b+j is lane j):
/// INT8 — per 4 k (k = 4c .. 4c+3) 64 bytes; byte 64c + 4j + (k − 4c) is q[16b+j, k] + 128 (an unsigned byte in [1, 255]);
/// INT4 — 32-bit word 16·c + j (little endian, bytes 64c + 4j ..) holds q[16b+j, 8c+i] in bits 4i..4i+3 (64 bytes per 8 k).
/// INT8 scales are [PaddedRows] F32. INT4 scales (F16 values, as checkpoints store them, held as F32) and zero points (bytes) are
/// [PaddedRows/16, K/G, 16]: entry (b, g, j) belongs to row 16b+j, group g. Padding rows have q = 0 (INT8: byte 128) and scale 0.
/// </summary>
public sealed unsafe class QuantizedWeight
{
    /// <summary>Rows per interleaved block (one 16-lane vector).</summary>
    public const int BlockRows = 16;

    /// <summary>Rows are padded to a multiple of this (the CPU kernels' 4-block unit).</summary>
    public const int UnitRows = 64;

    /// <summary>The INT8 kernels read q + 128 as an unsigned byte.</summary>
    public const int Int8Offset = 128;

    private readonly NativeWeightStorage _data;
    private readonly float[] _scales;      // INT8: [PaddedRows], pinned (empty for INT4)
    private readonly float[] _groupScales; // INT4: [PaddedRows/16, K/G, 16] F16 values as F32, pinned (empty for INT8)
    private readonly byte[] _zeros;        // INT4: [PaddedRows/16, K/G, 16] zero points, pinned (empty for INT8)

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
        PaddedRows = (rows + UnitRows - 1) / UnitRows * UnitRows;
        BlockBytes = scheme == QuantScheme.Int8PerChannel ? (long)BlockRows * cols : (long)BlockRows * cols / 2;
        bool int4 = scheme == QuantScheme.Int4Group;
        // q = 0 everywhere: zero bytes (INT4), or q + 128 = 128 (INT8, filled here instead of zeroed first).
        _data = new NativeWeightStorage(PaddedRows / BlockRows * BlockBytes, zeroed: int4);
        if (!int4) NativeMemory.Fill((void*)_data.Pointer, (nuint)_data.ByteLength, Int8Offset);
        _scales = int4 ? [] : GC.AllocateArray<float>(PaddedRows, pinned: true);
        _groupScales = int4 ? GC.AllocateArray<float>(PaddedRows * NumGroups, pinned: true) : [];
        _zeros = int4 ? GC.AllocateArray<byte>(PaddedRows * NumGroups, pinned: true) : [];
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

    /// <summary>
    /// Input columns per activation scale in the integer kernels: the largest of 128, 64, 32, 16 that divides the group size (INT4)
    /// or K (INT8), so an activation block never crosses a weight group.
    /// </summary>
    public int ActivationBlock
    {
        get
        {
            int span = Scheme == QuantScheme.Int4Group ? GroupSize : Cols;
            int block = 128;
            while (span % block != 0) block /= 2;
            return block;
        }
    }

    /// <summary>N rounded up to a multiple of <see cref="UnitRows"/>: the rows stored.</summary>
    public int PaddedRows { get; }

    /// <summary>Bytes per 16-row block: 16·K (INT8) or 8·K (INT4).</summary>
    public long BlockBytes { get; }

    /// <summary>Pointer to block 0 of the packed integers (64-byte aligned).</summary>
    public nint Data => _data.Pointer;

    /// <summary>Pointer to the F32 scales, pinned for the weight's lifetime: INT8 [PaddedRows]; INT4 [PaddedRows/16, K/G, 16].</summary>
    public nint ScalesPointer => Scheme == QuantScheme.Int8PerChannel
        ? (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_scales))
        : (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_groupScales));

    /// <summary>Pointer to the INT4 zero points [PaddedRows/16, K/G, 16] (bytes, pinned; not to be read for INT8).</summary>
    public nint ZerosPointer => (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_zeros));

    /// <summary>Resident bytes: packed integers plus scales and zero points.</summary>
    public long ByteLength => _data.ByteLength + 4L * _scales.Length + 4L * _groupScales.Length + _zeros.Length;

    /// <summary>Stores row <paramref name="row"/> of an INT8 weight: q [K] in [-127, 127] and its scale.</summary>
    public void SetRowInt8(int row, ReadOnlySpan<sbyte> q, float scale)
    {
        if (Scheme != QuantScheme.Int8PerChannel) throw new InvalidOperationException($"'{Name}' is {Scheme}, not INT8");
        CheckRow(row, q.Length);
        foreach (sbyte v in q)
            if (v == sbyte.MinValue) throw new ArgumentOutOfRangeException(nameof(q), $"'{Name}' row {row}: -128 is outside the symmetric INT8 range");
        byte* block = BlockPointer(row);
        int lane = row % BlockRows;
        for (int k = 0; k < Cols; k++) block[Int8ByteIndex(k, lane)] = (byte)(q[k] + Int8Offset);
        _scales[row] = scale;
    }

    /// <summary>
    /// Stores row <paramref name="row"/> of an INT4 weight: q [K] in [0, 15], and per group the scale (an F16 value, as AWQ
    /// checkpoints and our quantizer produce) and the zero point.
    /// </summary>
    public void SetRowInt4(int row, ReadOnlySpan<byte> q, ReadOnlySpan<float> scales, ReadOnlySpan<byte> zeros)
    {
        if (Scheme != QuantScheme.Int4Group) throw new InvalidOperationException($"'{Name}' is {Scheme}, not INT4");
        CheckRow(row, q.Length);
        if (scales.Length != NumGroups || zeros.Length != NumGroups)
            throw new ArgumentException($"'{Name}': {scales.Length} scales and {zeros.Length} zeros for {NumGroups} groups");
        foreach (byte v in q)
            if (v > 15) throw new ArgumentOutOfRangeException(nameof(q), $"'{Name}' row {row}: 4-bit value out of range");
        uint* words = (uint*)BlockPointer(row) + row % BlockRows;
        for (int c = 0; c < Cols / 8; c++)
        {
            uint word = 0;
            for (int i = 0; i < 8; i++) word |= (uint)q[8 * c + i] << (4 * i);
            words[BlockRows * c] = word;
        }
        for (int g = 0; g < NumGroups; g++)
        {
            if (zeros[g] > 15) throw new ArgumentOutOfRangeException(nameof(zeros), $"'{Name}' row {row}: zero point {zeros[g]} out of range");
            var half = (Half)scales[g];
            if ((float)half != scales[g] && !float.IsNaN(scales[g]))
                throw new ArgumentException($"'{Name}' row {row} group {g}: scale {scales[g]} is not an F16 value", nameof(scales));
            _zeros[VectorIndex(row, g)] = zeros[g];
            _groupScales[VectorIndex(row, g)] = (float)half;
        }
    }

    /// <summary>The stored integer of element [row, col] (signed for INT8).</summary>
    public int GetQ(int row, int col)
    {
        CheckElement(row, col);
        if (Scheme == QuantScheme.Int8PerChannel) return BlockPointer(row)[Int8ByteIndex(col, row % BlockRows)] - Int8Offset;
        uint word = ((uint*)BlockPointer(row))[(long)BlockRows * (col / 8) + row % BlockRows];
        return (int)(word >> (4 * (col % 8))) & 15;
    }

    /// <summary>The zero point of [row, group] (0 for INT8).</summary>
    public int GetZero(int row, int group) => Scheme == QuantScheme.Int8PerChannel ? 0 : _zeros[VectorIndex(row, group)];

    /// <summary>The scale of [row, group].</summary>
    public float GetScale(int row, int group) => Scheme == QuantScheme.Int8PerChannel
        ? _scales[row]
        : _groupScales[VectorIndex(row, group)];

    /// <summary>The dequantized element [row, col]: q·s (INT8) or (q − z)·s (INT4), rounded once.</summary>
    public float DequantizeElement(int row, int col)
    {
        int g = col / GroupSize;
        return (GetQ(row, col) - GetZero(row, g)) * GetScale(row, g);
    }

    /// <summary>Row <paramref name="row"/> dequantized into <paramref name="dst"/> [K].</summary>
    public void DequantizeRow(int row, Span<float> dst)
    {
        if (dst.Length < Cols) throw new ArgumentException($"'{Name}': destination holds {dst.Length} of {Cols} columns", nameof(dst));
        for (int c = 0; c < Cols; c++) dst[c] = DequantizeElement(row, c);
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} {Scheme} [{Rows}, {Cols}] g{GroupSize}";

    private byte* BlockPointer(int row) => (byte*)_data.Pointer + row / BlockRows * BlockBytes;

    // Byte of (k, lane) inside an INT8 block: 64 bytes per 4 k, 4 consecutive k per lane.
    private static long Int8ByteIndex(int k, int lane) => 64L * (k / 4) + 4 * lane + k % 4;

    // Index of (row, group) in the INT4 [PaddedRows/16, K/G, 16] scale and zero-point arrays.
    private int VectorIndex(int row, int group) => (row / BlockRows * NumGroups + group) * BlockRows + row % BlockRows;

    private void CheckRow(int row, int length)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), $"'{Name}': row {row} outside [0, {Rows})");
        if (length != Cols) throw new ArgumentException($"'{Name}': row of {length} values, expected {Cols}");
    }

    private void CheckElement(int row, int col)
    {
        if ((uint)row >= (uint)Rows || (uint)col >= (uint)Cols)
            throw new ArgumentOutOfRangeException(nameof(row), $"'{Name}': element [{row}, {col}] outside [{Rows}, {Cols}]");
    }
}
