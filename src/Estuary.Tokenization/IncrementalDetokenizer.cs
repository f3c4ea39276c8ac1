// Streaming detokenizer for one output sequence. Invariant: the concatenation of every Add() result and the final
// Flush() equals TextTokenizer.Decode of all the ids; no result ever holds part of a character.
using System.Text;

namespace Estuary.Tokenization;

/// <summary>
/// Turns generated token ids into text as they arrive. Each <see cref="Add"/> returns only text that can no longer
/// change (a character split over several byte pieces is returned once complete); work per token is O(1).
/// Create one per sequence with <see cref="TextTokenizer.CreateDetokenizer"/>.
/// </summary>
public sealed class IncrementalDetokenizer
{
    private readonly ITokenDecoder _decoder;
    private readonly StringBuilder _delta = new();
    private readonly StringBuilder _text = new();
    private string? _textCache = "";
    private bool _flushed;

    internal IncrementalDetokenizer(ITokenDecoder decoder) => _decoder = decoder;

    /// <summary>All text returned so far.</summary>
    public string Text => _textCache ??= _text.ToString();

    /// <summary>Feeds one generated id; returns the newly decodable text, possibly "".</summary>
    /// <exception cref="ArgumentOutOfRangeException">the id is outside the vocabulary.</exception>
    /// <exception cref="InvalidOperationException">called after <see cref="Flush"/>.</exception>
    public string Add(int tokenId)
    {
        if (_flushed) throw new InvalidOperationException("the sequence was already flushed; create a new detokenizer");
        _decoder.Add(tokenId, _delta);
        return TakeDelta();
    }

    /// <summary>Ends the sequence and returns the text still held back (incomplete UTF-8 becomes U+FFFD).</summary>
    public string Flush()
    {
        if (_flushed) return "";
        _flushed = true;
        _decoder.Finish(_delta);
        return TakeDelta();
    }

    private string TakeDelta()
    {
        if (_delta.Length == 0) return "";
        var delta = _delta.ToString();
        _delta.Clear();
        _text.Append(delta);
        _textCache = null;
        return delta;
    }
}
