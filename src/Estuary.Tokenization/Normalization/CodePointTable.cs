// A byte per Unicode code point in two stages (a block index, then shared 128-entry blocks), built once from sparse values.
// Invariant: immutable after construction; code points outside [0, 0x10FFFF] read as 0.
namespace Estuary.Tokenization;

internal sealed class CodePointTable
{
    private const int Shift = 7;
    private const int BlockSize = 1 << Shift;
    private const int NumCodePoints = 0x110000;

    private readonly ushort[] _blockOf; // [NumCodePoints / BlockSize]: index of each block's values in _values
    private readonly byte[] _values;    // [numUniqueBlocks · BlockSize]

    /// <param name="values">The non-zero values by code point.</param>
    public CodePointTable(IReadOnlyDictionary<int, byte> values)
    {
        var full = new byte[NumCodePoints];
        var used = new bool[NumCodePoints / BlockSize];
        foreach (var (cp, value) in values)
        {
            full[cp] = value;
            used[cp >> Shift] |= value != 0;
        }
        _blockOf = new ushort[NumCodePoints / BlockSize]; // all-zero blocks share block 0
        var unique = new Dictionary<string, ushort>(StringComparer.Ordinal) { [new string('0', 2 * BlockSize)] = 0 };
        List<byte[]> blocks = [new byte[BlockSize]];
        for (var b = 0; b < _blockOf.Length; b++)
        {
            if (!used[b]) continue;
            var block = full.AsSpan(b * BlockSize, BlockSize);
            var key = Convert.ToHexString(block); // a block's bytes as text, to share equal blocks
            if (!unique.TryGetValue(key, out var number))
            {
                number = checked((ushort)blocks.Count);
                unique[key] = number;
                blocks.Add(block.ToArray());
            }
            _blockOf[b] = number;
        }
        _values = new byte[blocks.Count * BlockSize];
        for (var i = 0; i < blocks.Count; i++) blocks[i].CopyTo(_values, i * BlockSize);
    }

    public byte this[int cp] =>
        (uint)cp < NumCodePoints ? _values[(_blockOf[cp >> Shift] << Shift) | (cp & (BlockSize - 1))] : (byte)0;
}
