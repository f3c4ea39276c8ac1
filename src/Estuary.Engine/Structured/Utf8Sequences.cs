// Code-point ranges as UTF-8 byte-range sequences, so a grammar over bytes can match "any character in [lo, hi]".
// Invariant: the sequences are disjoint and together match exactly the UTF-8 encodings of the code points in the range
// (surrogates U+D800..U+DFFF excluded, as they have no UTF-8 form).
namespace Estuary.Engine.Structured;

internal static class Utf8Sequences
{
    /// <summary>The byte-range sequences (1–4 ranges each) that encode the code points lo..hi.</summary>
    public static List<(byte Lo, byte Hi)[]> Of(int lo, int hi)
    {
        if (lo < 0 || hi > 0x10FFFF) throw new ArgumentOutOfRangeException(nameof(lo), $"code points must be in [0, 0x10FFFF] (got {lo:X}..{hi:X})");
        var result = new List<(byte, byte)[]>();
        if (lo <= hi) Split(lo, hi, result);
        return result;
    }

    private static void Split(int lo, int hi, List<(byte, byte)[]> output)
    {
        // Surrogates have no encoding.
        if (lo <= 0xDFFF && hi >= 0xD800)
        {
            if (lo < 0xD800) Split(lo, 0xD7FF, output);
            if (hi > 0xDFFF) Split(0xE000, hi, output);
            return;
        }
        // One encoded length per range.
        foreach (int boundary in (ReadOnlySpan<int>)[0x7F, 0x7FF, 0xFFFF])
        {
            if (lo <= boundary && hi > boundary)
            {
                Split(lo, boundary, output);
                Split(boundary + 1, hi, output);
                return;
            }
        }
        int length = hi <= 0x7F ? 1 : hi <= 0x7FF ? 2 : hi <= 0xFFFF ? 3 : 4;
        // Split until every continuation byte position spans a full or aligned range, so each byte varies independently.
        for (int i = 1; i < length; i++)
        {
            int mask = (1 << (6 * i)) - 1;
            if ((lo & ~mask) == (hi & ~mask)) continue;
            if ((lo & mask) != 0)
            {
                Split(lo, lo | mask, output);
                Split((lo | mask) + 1, hi, output);
                return;
            }
            if ((hi & mask) != mask)
            {
                Split(lo, (hi & ~mask) - 1, output);
                Split(hi & ~mask, hi, output);
                return;
            }
        }
        Span<byte> a = stackalloc byte[4];
        Span<byte> b = stackalloc byte[4];
        Encode(lo, a);
        Encode(hi, b);
        var sequence = new (byte, byte)[length];
        for (int i = 0; i < length; i++) sequence[i] = (a[i], b[i]);
        output.Add(sequence);
    }

    private static void Encode(int cp, Span<byte> bytes)
    {
        if (cp <= 0x7F) bytes[0] = (byte)cp;
        else if (cp <= 0x7FF)
        {
            bytes[0] = (byte)(0xC0 | (cp >> 6));
            bytes[1] = (byte)(0x80 | (cp & 0x3F));
        }
        else if (cp <= 0xFFFF)
        {
            bytes[0] = (byte)(0xE0 | (cp >> 12));
            bytes[1] = (byte)(0x80 | ((cp >> 6) & 0x3F));
            bytes[2] = (byte)(0x80 | (cp & 0x3F));
        }
        else
        {
            bytes[0] = (byte)(0xF0 | (cp >> 18));
            bytes[1] = (byte)(0x80 | ((cp >> 12) & 0x3F));
            bytes[2] = (byte)(0x80 | ((cp >> 6) & 0x3F));
            bytes[3] = (byte)(0x80 | (cp & 0x3F));
        }
    }
}
