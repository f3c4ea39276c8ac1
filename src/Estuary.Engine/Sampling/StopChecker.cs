// Decides when a sequence stops and which text it may emit: stop tokens, stop strings (never emitted, even split across
// tokens: the last maxStopLength−1 characters are held back), max_tokens and the context limit.
using System.Text;
using Estuary.Tokenization;

namespace Estuary.Engine.Sampling;

/// <summary>Per-sequence stop and text-emission state.</summary>
internal sealed class StopChecker
{
    private readonly IncrementalDetokenizer _detokenizer;
    private readonly IReadOnlyList<string> _stopStrings;
    private readonly HashSet<int> _stopTokenIds;
    private readonly int _holdBack;
    private readonly StringBuilder _text = new();
    private int _emitted;

    public StopChecker(IncrementalDetokenizer detokenizer, IReadOnlyList<string> stopStrings, HashSet<int> stopTokenIds)
    {
        _detokenizer = detokenizer;
        _stopStrings = stopStrings;
        _stopTokenIds = stopTokenIds;
        StopTokenIdArray = [.. stopTokenIds];
        foreach (var s in stopStrings) _holdBack = Math.Max(_holdBack, s.Length - 1);
    }

    /// <summary>Token ids that end the sequence (EOS unless ignored, plus stop_token_ids).</summary>
    public IReadOnlySet<int> StopTokenIds => _stopTokenIds;

    /// <summary>The same ids as an array, for walking them without allocating.</summary>
    public int[] StopTokenIdArray { get; }

    /// <summary>The text emitted so far.</summary>
    public string EmittedText => _text.ToString(0, _emitted);

    /// <summary>Feeds the newest token; returns the text that may now be emitted and the finish reason, if it finished.</summary>
    public (string Delta, FinishReason? Reason) OnToken(int tokenId, bool reachedLengthLimit)
    {
        if (_stopTokenIds.Contains(tokenId))
        {
            _text.Append(_detokenizer.Flush());
            return (TakeAll(), FinishReason.Stop);
        }
        int searchFrom = _emitted;
        _text.Append(_detokenizer.Add(tokenId));
        if (reachedLengthLimit) _text.Append(_detokenizer.Flush());
        int stopAt = FindStopString(searchFrom);
        if (stopAt >= 0)
        {
            _text.Length = stopAt;
            return (TakeAll(), FinishReason.Stop);
        }
        if (reachedLengthLimit) return (TakeAll(), FinishReason.Length);
        int safe = _text.Length - _holdBack;
        if (safe > _emitted && char.IsHighSurrogate(_text[safe - 1])) safe--;
        if (safe <= _emitted) return ("", null);
        var delta = _text.ToString(_emitted, safe - _emitted);
        _emitted = safe;
        return (delta, null);
    }

    /// <summary>Emits everything held back (the request ended for another reason, e.g. abort).</summary>
    public string Flush()
    {
        _text.Append(_detokenizer.Flush());
        return TakeAll();
    }

    private string TakeAll()
    {
        var delta = _text.ToString(_emitted, _text.Length - _emitted);
        _emitted = _text.Length;
        return delta;
    }

    private int FindStopString(int from)
    {
        if (_stopStrings.Count == 0 || _text.Length == from) return -1;
        var tail = _text.ToString(from, _text.Length - from);
        int best = -1;
        foreach (var s in _stopStrings)
        {
            int i = tail.IndexOf(s, StringComparison.Ordinal);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best < 0 ? -1 : from + best;
    }
}
