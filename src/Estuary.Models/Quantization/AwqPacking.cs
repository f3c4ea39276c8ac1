// AutoAWQ GEMM packing: qweight/qzeros [rows, N/8] int32, word j holding columns 8j..8j+7 with column 8j+AWQ_ORDER[i] in nibble i.
// Invariant: Pack and Unpack are exact inverses; nibbles are read with logical shifts (words with a top nibble ≥ 8 are negative).
namespace Estuary.Models.Quantization;

/// <summary>Packs and unpacks 4-bit values in AutoAWQ's interleaved order.</summary>
public static class AwqPacking
{
    /// <summary>Nibble i of a word holds column 8j + Order[i].</summary>
    public static ReadOnlySpan<int> Order => [0, 2, 4, 6, 1, 3, 5, 7];

    /// <summary>Column 8j + k sits in nibble ReverseOrder[k].</summary>
    public static ReadOnlySpan<int> ReverseOrder => [0, 4, 1, 5, 2, 6, 3, 7];

    /// <summary>The 4-bit value of column <paramref name="col"/> in row <paramref name="packedRow"/> [N/8].</summary>
    public static byte Get(ReadOnlySpan<int> packedRow, int col) =>
        (byte)(((uint)packedRow[col >> 3] >> (4 * ReverseOrder[col & 7])) & 15);

    /// <summary>values [N] (each ≤ 15) → packed [N/8].</summary>
    public static void PackRow(ReadOnlySpan<byte> values, Span<int> packed)
    {
        if (values.Length != packed.Length * 8) throw new ArgumentException($"{values.Length} values do not fill {packed.Length} words");
        for (int j = 0; j < packed.Length; j++)
        {
            uint word = 0;
            for (int i = 0; i < 8; i++) word |= (uint)(values[8 * j + Order[i]] & 15) << (4 * i);
            packed[j] = (int)word;
        }
    }

    /// <summary>packed [N/8] → values [N].</summary>
    public static void UnpackRow(ReadOnlySpan<int> packed, Span<byte> values)
    {
        for (int c = 0; c < values.Length; c++) values[c] = Get(packed, c);
    }
}
