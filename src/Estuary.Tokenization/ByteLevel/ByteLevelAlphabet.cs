// The byte-level BPE alphabet (GPT-2's bytes_to_unicode): each of the 256 byte values is written as one printable
// character, so a vocabulary of strings can hold any byte sequence. Invariant: a bijection between bytes and 256 chars.
namespace Estuary.Tokenization;

internal static class ByteLevelAlphabet
{
    /// <summary>The character standing for each byte value.</summary>
    public static readonly char[] CharOfByte = BuildCharOfByte();

    /// <summary>The byte value of each alphabet character, indexed by char code (-1 for characters outside the alphabet).</summary>
    public static readonly short[] ByteOfChar = BuildByteOfChar();

    // Printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other 68 bytes take the characters
    // from U+0100 on, in byte order.
    private static char[] BuildCharOfByte()
    {
        var chars = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            chars[b] = printable ? (char)b : (char)next++;
        }
        return chars;
    }

    private static short[] BuildByteOfChar()
    {
        var bytes = new short[512];
        Array.Fill(bytes, (short)-1);
        for (var b = 0; b < 256; b++) bytes[CharOfByte[b]] = (short)b;
        return bytes;
    }

    /// <summary>The bytes a byte-level string stands for, or null when a character is outside the alphabet.</summary>
    public static byte[]? ToBytes(string text)
    {
        var bytes = new byte[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c >= ByteOfChar.Length || ByteOfChar[c] < 0) return null;
            bytes[i] = (byte)ByteOfChar[c];
        }
        return bytes;
    }
}
