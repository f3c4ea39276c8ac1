// The decoding state machine shared by TextTokenizer.Decode and IncrementalDetokenizer, mirroring
// SentencePieceProcessor::Decode: byte-piece runs decoded as strict UTF-8 (one U+FFFD per invalid byte), the first
// '▁' of the text dropped, control pieces invisible. Invariant: feeding ids one by one then Finish() appends exactly
// the text a whole-sequence decode produces, and never appends part of a code point.
using System.Text;

namespace Estuary.Tokenization;

internal sealed class PieceDecoder : ITokenDecoder
{
    private const char Replacement = '\uFFFD';

    private readonly DecodeTable _table;
    private readonly bool _skipSpecialTokens;

    // Bytes of the current byte-piece run whose character is not decided yet (at most 3 wait at a time).
    private readonly byte[] _pending = new byte[4];
    private int _pendingCount;

    // sentencepiece's is_bos_ws / bos_ws_seen, plus "its text is non-empty" (rendered special tokens excluded).
    private bool _isBosWs = true;
    private bool _bosWsSeen;
    private bool _hasText;

    public PieceDecoder(DecodeTable table, bool skipSpecialTokens)
    {
        _table = table;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>Appends whatever text <paramref name="id"/> makes decidable.</summary>
    public void Add(int id, StringBuilder output)
    {
        if ((uint)id >= (uint)_table.Surface.Length)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id must be in [0, {_table.Surface.Length})");

        var byteValue = _table.ByteValue[id];
        if (byteValue >= 0)
        {
            _pending[_pendingCount++] = (byte)byteValue;
            DrainBytes(output, runEnded: false);
            return;
        }

        // Any other piece ends the byte run, then decides whether the dummy-prefix space may still be stripped.
        DrainBytes(output, runEnded: true);
        if (_bosWsSeen || _hasText) _isBosWs = false;

        var type = _table.Model.Types[id];
        string surface;
        _bosWsSeen = false;
        if (type == PieceType.Control)
        {
            // Invisible for sentencepiece; rendered on request but never counted as text, so the stripping of the
            // leading space does not depend on skipSpecialTokens.
            if (!_skipSpecialTokens) output.Append(_table.Model.Pieces[id]);
            return;
        }
        if (type != PieceType.Unknown && _isBosWs && _table.StripsLeadingSpace && _table.SurfaceWithoutLeadingSpace[id] is { } stripped)
        {
            surface = stripped;
            // With remove_extra_whitespaces every leading space goes, so the search for one continues.
            _bosWsSeen = !_table.Model.RemoveExtraWhitespaces;
        }
        else
        {
            surface = _table.Surface[id];
        }
        if (surface.Length > 0)
        {
            output.Append(surface);
            _hasText = true;
        }
    }

    /// <summary>Ends the sequence: bytes still waiting for continuation bytes become U+FFFD each.</summary>
    public void Finish(StringBuilder output) => DrainBytes(output, runEnded: true);

    private void DrainBytes(StringBuilder output, bool runEnded)
    {
        while (_pendingCount > 0)
        {
            var b0 = _pending[0];
            var need = b0 < 0x80 ? 1 : (b0 & 0xE0) == 0xC0 ? 2 : (b0 & 0xF0) == 0xE0 ? 3 : (b0 & 0xF8) == 0xF0 ? 4 : 0;
            int consumed;
            if (need == 0)
            {
                consumed = Emit(output, Replacement);
            }
            else if (need == 1)
            {
                consumed = Emit(output, (char)b0);
            }
            else if (_pendingCount < need)
            {
                // Undecided until the run ends or enough bytes arrive, unless a non-continuation byte already
                // makes it invalid (a decision the whole-sequence decode would reach as well).
                if (!runEnded && AllTrailBytes(1, _pendingCount)) return;
                consumed = Emit(output, Replacement);
            }
            else
            {
                var cp = DecodeSequence(need);
                consumed = cp >= 0 ? EmitCodePoint(output, cp, need) : Emit(output, Replacement);
            }
            Shift(consumed);
        }
    }

    // Strict UTF-8 as sentencepiece's string_util::DecodeUTF8: trail bytes, no overlongs, no surrogates, ≤ U+10FFFF.
    private int DecodeSequence(int need)
    {
        if (!AllTrailBytes(1, need)) return -1;
        int cp;
        int min;
        switch (need)
        {
            case 2: cp = ((_pending[0] & 0x1F) << 6) | (_pending[1] & 0x3F); min = 0x80; break;
            case 3: cp = ((_pending[0] & 0x0F) << 12) | ((_pending[1] & 0x3F) << 6) | (_pending[2] & 0x3F); min = 0x800; break;
            default:
                cp = ((_pending[0] & 0x07) << 18) | ((_pending[1] & 0x3F) << 12) | ((_pending[2] & 0x3F) << 6) | (_pending[3] & 0x3F);
                min = 0x10000;
                break;
        }
        var valid = cp >= min && (cp < 0xD800 || (cp >= 0xE000 && cp <= 0x10FFFF));
        return valid ? cp : -1;
    }

    private bool AllTrailBytes(int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            if ((_pending[i] & 0xC0) != 0x80) return false;
        }
        return true;
    }

    private int Emit(StringBuilder output, char c)
    {
        output.Append(c);
        _hasText = true;
        return 1;
    }

    private int EmitCodePoint(StringBuilder output, int cp, int byteCount)
    {
        if (cp < 0x10000)
        {
            output.Append((char)cp);
        }
        else
        {
            cp -= 0x10000;
            output.Append((char)(0xD800 + (cp >> 10)));
            output.Append((char)(0xDC00 + (cp & 0x3FF)));
        }
        _hasText = true;
        return byteCount;
    }

    private void Shift(int count)
    {
        for (var i = count; i < _pendingCount; i++) _pending[i - count] = _pending[i];
        _pendingCount -= count;
    }
}
