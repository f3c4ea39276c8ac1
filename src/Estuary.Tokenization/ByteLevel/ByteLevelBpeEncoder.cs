// Byte-level BPE encoding as Hugging Face tokenizers does it for tokenizer.json: added tokens split out of the raw text
// (leftmost, then longest), the rest normalized and pre-tokenized, each piece's UTF-8 bytes written in the byte-level
// alphabet and merged by rank (the lowest-ranked adjacent pair first, the leftmost of equal pairs first).
// Invariant: thread-safe; ids equal the tokenizers library's for the supported components.
using System.Collections.Concurrent;
using System.Text;

namespace Estuary.Tokenization;

internal sealed class ByteLevelBpeEncoder
{
    private const int MaxCachedWords = 1 << 16;
    private const int MaxCachedWordLength = 256; // as Hugging Face tokenizers: long runs are merged each time, not kept

    private readonly ByteLevelBpeModel _model;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocab;
    private readonly Dictionary<char, AddedToken[]> _addedByFirstChar;
    private readonly ConcurrentDictionary<string, int[]> _wordCache = new();
    private int _cachedWords; // ConcurrentDictionary.Count takes every lock; this is read without one

    public ByteLevelBpeEncoder(ByteLevelBpeModel model)
    {
        _model = model;
        _vocab = model.Vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _addedByFirstChar = model.AddedTokens
            .Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    /// <summary>Appends the ids of <paramref name="text"/>, added tokens written in it included (no prefix or suffix ids).</summary>
    public void Encode(string text, List<int> output)
    {
        var segmentStart = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (MatchAdded(text, i) is not { } token) continue;
            var matchStart = i;
            var matchEnd = i + token.Content.Length;
            if (token.LStrip) while (matchStart > segmentStart && char.IsWhiteSpace(text[matchStart - 1])) matchStart--;
            if (token.RStrip) while (matchEnd < text.Length && char.IsWhiteSpace(text[matchEnd])) matchEnd++;
            if (matchStart > segmentStart) EncodeSegment(text[segmentStart..matchStart], output);
            output.Add(token.Id);
            segmentStart = matchEnd;
            i = matchEnd - 1;
        }
        if (segmentStart < text.Length) EncodeSegment(text[segmentStart..], output);
    }

    // The longest added token written at position i, if any.
    private AddedToken? MatchAdded(string text, int i)
    {
        if (!_addedByFirstChar.TryGetValue(text[i], out var candidates)) return null;
        foreach (var token in candidates) // longest first
            if (string.CompareOrdinal(text, i, token.Content, 0, token.Content.Length) == 0) return token;
        return null;
    }

    private void EncodeSegment(string text, List<int> output)
    {
        // Normalize throws on a lone surrogate; UTF-8 would carry it as U+FFFD anyway.
        if (_model.Normalization is { } form) text = ReplaceLoneSurrogates(text).Normalize(form);
        List<string> pieces = [];
        _model.PreTokenizer.Split(text, pieces);
        foreach (var piece in pieces) EncodeWord(piece, output);
    }

    private static string ReplaceLoneSurrogates(string text)
    {
        if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0) return text;
        var chars = text.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1])) i++;
            else if (char.IsSurrogate(chars[i])) chars[i] = '\uFFFD';
        }
        return new string(chars);
    }

    private void EncodeWord(string piece, List<int> output)
    {
        if (_wordCache.TryGetValue(piece, out var cached))
        {
            output.AddRange(cached);
            return;
        }
        var ids = MergeWord(ToAlphabet(piece));
        if (piece.Length < MaxCachedWordLength && Volatile.Read(ref _cachedWords) < MaxCachedWords && _wordCache.TryAdd(piece, ids))
            Interlocked.Increment(ref _cachedWords);
        output.AddRange(ids);
    }

    // The piece's UTF-8 bytes (lone surrogates as U+FFFD) written one alphabet character per byte.
    private static string ToAlphabet(string piece)
    {
        var bytes = Encoding.UTF8.GetBytes(piece);
        return string.Create(bytes.Length, bytes, static (chars, b) =>
        {
            for (var i = 0; i < b.Length; i++) chars[i] = ByteLevelAlphabet.CharOfByte[b[i]];
        });
    }

    // BPE over one word in the byte-level alphabet. Symbols form a linked list; candidate pairs wait in a heap ordered by
    // (rank, position) and are checked when popped, since a merge may have consumed either side. O(n log n) per word.
    private int[] MergeWord(string word)
    {
        if (_model.IgnoreMerges && _vocab.TryGetValue(word, out var whole)) return [whole];
        var n = word.Length;
        var ids = new int[n];
        var next = new int[n];
        var prev = new int[n];
        for (var i = 0; i < n; i++)
        {
            ids[i] = _model.ByteIds[ByteLevelAlphabet.ByteOfChar[word[i]]];
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        var pairs = new PriorityQueue<(int Left, int LeftId, int RightId, int Merged), (int Rank, int Position)>();
        for (var i = 0; i + 1 < n; i++) Offer(pairs, i, ids[i], ids[i + 1]);
        while (pairs.TryDequeue(out var pair, out _))
        {
            var left = pair.Left;
            var right = next[left];
            // Stale when the left symbol was merged into its predecessor or either side changed since it was offered.
            if (ids[left] != pair.LeftId || right < 0 || ids[right] != pair.RightId || prev[left] == -2) continue;
            ids[left] = pair.Merged;
            var after = next[right];
            next[left] = after;
            if (after >= 0) prev[after] = left;
            prev[right] = -2; // gone
            ids[right] = -1;
            if (prev[left] >= 0) Offer(pairs, prev[left], ids[prev[left]], ids[left]);
            if (after >= 0) Offer(pairs, left, ids[left], ids[after]);
        }
        var result = new List<int>(n);
        for (var i = 0; i >= 0; i = next[i]) result.Add(ids[i]);
        return [.. result];
    }

    private void Offer(PriorityQueue<(int, int, int, int), (int, int)> pairs, int left, int leftId, int rightId)
    {
        if (_model.Merges.TryGetValue(ByteLevelBpeModel.PairKey(leftId, rightId), out var merge))
            pairs.Enqueue((left, leftId, rightId, merge.Merged), (merge.Rank, left));
    }
}
