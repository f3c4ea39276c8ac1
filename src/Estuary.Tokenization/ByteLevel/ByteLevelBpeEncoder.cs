// Byte-level BPE encoding as Hugging Face tokenizers does it for tokenizer.json: added tokens split out of the raw text
// (leftmost, then longest), the rest normalized (normalized added tokens split out of that) and pre-tokenized, each
// piece's UTF-8 bytes written in the byte-level alphabet and merged by rank (the lowest-ranked adjacent pair first, the
// leftmost of equal pairs first).
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
    private readonly AddedTokenMatcher _rawTokens;        // added tokens with normalized false, matched in the raw text
    private readonly AddedTokenMatcher _normalizedTokens; // the others, matched in each normalized stretch between those
    private readonly ConcurrentDictionary<string, int[]> _wordCache = new();
    private int _cachedWords; // ConcurrentDictionary.Count takes every lock; this is read without one

    public ByteLevelBpeEncoder(ByteLevelBpeModel model)
    {
        _model = model;
        _vocab = model.Vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _rawTokens = new AddedTokenMatcher(model.AddedTokens.Where(t => !t.Normalized).Select(t => (t.Content, t)));
        _normalizedTokens = new AddedTokenMatcher(model.AddedTokens.Where(t => t.Normalized).Select(t => (Normalize(t.Content), t)));
    }

    /// <summary>Appends the ids of <paramref name="text"/>, added tokens written in it included (no prefix or suffix ids).</summary>
    /// <remarks>As the tokenizers library's AddedVocabulary: the raw text is split at non-normalized added tokens; each stretch
    /// between them is normalized and split at the normalized ones; what is left is pre-tokenized and merged.</remarks>
    public void Encode(string text, List<int> output) => SplitAtAddedTokens(text, _rawTokens, normalized: false, output);

    private void SplitAtAddedTokens(string text, AddedTokenMatcher tokens, bool normalized, List<int> output)
    {
        var segmentStart = 0;
        if (!tokens.IsEmpty)
        {
            for (var i = 0; i < text.Length; i++)
            {
                if (tokens.Match(text, i) is not var (token, length)) continue;
                var matchStart = i;
                var matchEnd = i + length;
                if (token.LStrip) while (matchStart > segmentStart && char.IsWhiteSpace(text[matchStart - 1])) matchStart--;
                if (token.RStrip) while (matchEnd < text.Length && char.IsWhiteSpace(text[matchEnd])) matchEnd++;
                if (matchStart > segmentStart) EncodeBetween(text[segmentStart..matchStart], normalized, output);
                output.Add(token.Id);
                segmentStart = matchEnd;
                i = matchEnd - 1;
            }
        }
        if (segmentStart < text.Length) EncodeBetween(segmentStart == 0 ? text : text[segmentStart..], normalized, output);
    }

    // A stretch between added tokens: raw ones are normalized and searched for normalized tokens, normalized ones encoded.
    private void EncodeBetween(string text, bool normalized, List<int> output)
    {
        if (!normalized)
        {
            SplitAtAddedTokens(Normalize(text), _normalizedTokens, normalized: true, output);
            return;
        }
        List<string> pieces = [];
        _model.PreTokenizer.Split(text, pieces);
        foreach (var piece in pieces) EncodeWord(piece, output);
    }

    // The normalizers in order (a lone surrogate passes through; UTF-8 carries it as U+FFFD, as the pre-tokenizer reads it).
    private string Normalize(string text)
    {
        foreach (var form in _model.Normalizations) text = UnicodeNormalizer.Normalize(text, form);
        return text;
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
