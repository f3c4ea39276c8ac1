// Decoding of byte-level BPE ids as the ByteLevel decoder does it: every token's alphabet characters become their bytes
// (a token with a character outside the alphabet, such as an added token, contributes its own UTF-8), the bytes of the
// whole sequence are read as UTF-8 with U+FFFD for each maximal invalid subsequence (Rust's from_utf8_lossy, .NET's
// UTF8 decoder). Invariant: id-by-id output plus Finish equals the whole-sequence decode.
using System.Text;

namespace Estuary.Tokenization;

internal sealed class ByteLevelDecoder(byte[][] tokenBytes, bool[] special, bool skipSpecialTokens) : ITokenDecoder
{
    private readonly Decoder _utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private char[] _chars = new char[64];

    public void Add(int id, StringBuilder output)
    {
        if ((uint)id >= (uint)tokenBytes.Length)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id must be in [0, {tokenBytes.Length})");
        if (skipSpecialTokens && special[id]) return;
        Feed(tokenBytes[id], flush: false, output);
    }

    public void Finish(StringBuilder output) => Feed([], flush: true, output);

    private void Feed(byte[] bytes, bool flush, StringBuilder output)
    {
        // At most one char per byte, plus one U+FFFD for each of the (at most 3) bytes still held from earlier calls.
        int most = bytes.Length + 3;
        if (most > _chars.Length) _chars = new char[Math.Max(most, _chars.Length * 2)];
        var count = _utf8.GetChars(bytes, 0, bytes.Length, _chars, 0, flush);
        output.Append(_chars, 0, count);
    }
}
