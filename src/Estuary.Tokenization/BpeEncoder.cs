// SentencePiece BPE encoding (normalizer + bpe::Model::Encode + byte fallback), reimplemented from the algorithm.
// Invariant: output ids equal sentencepiece's EncodeAsIds for BPE models with the identity normalizer.
using System.Text;

namespace Estuary.Tokenization;

internal sealed class BpeEncoder
{
    private const char SpaceSymbol = '\u2581';

    private readonly SentencePieceModel _model;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _mergeable;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _reserved;

    // USER_DEFINED pieces grouped by first char, longest first, so the greedy prefix match tries few candidates.
    private readonly Dictionary<char, string[]> _userDefinedByFirstChar;

    public BpeEncoder(SentencePieceModel model)
    {
        _model = model;
        _mergeable = model.MergeablePieces.GetAlternateLookup<ReadOnlySpan<char>>();
        _reserved = model.ReservedPieces.GetAlternateLookup<ReadOnlySpan<char>>();
        _userDefinedByFirstChar = [];
        foreach (var group in model.UserDefinedPieces.GroupBy(p => p[0]))
        {
            _userDefinedByFirstChar[group.Key] = [.. group.OrderByDescending(p => p.Length)];
        }
    }

    /// <summary>Appends the ids of <paramref name="text"/> (no BOS/EOS) to <paramref name="output"/>; without
    /// <paramref name="addDummyPrefix"/> the model's dummy-prefix space is left out (text continuing after a special token).</summary>
    public void Encode(string text, List<int> output, bool addDummyPrefix = true)
    {
        var normalized = Normalize(text, addDummyPrefix);
        if (normalized.Length == 0) return;
        EncodeNormalized(normalized, output);
    }

    /// <summary>
    /// sentencepiece's Normalizer::Normalize for the identity rule: optional removal of leading/trailing/repeated
    /// spaces, the dummy prefix, and ' ' → '▁'. Lone surrogates become U+FFFD, as UTF-8 conversion would make them.
    /// </summary>
    internal char[] Normalize(string text, bool addDummyPrefix = true)
    {
        if (text.Length == 0) return [];
        var removeExtra = _model.RemoveExtraWhitespaces;
        var start = 0;
        if (removeExtra)
        {
            while (start < text.Length && text[start] == ' ') start++;
            if (start == text.Length) return [];
        }
        var space = _model.EscapeWhitespaces ? SpaceSymbol : ' ';
        var buffer = new char[text.Length - start + 1];
        var n = 0;
        if (_model.AddDummyPrefix && addDummyPrefix) buffer[n++] = space;
        var isPrevSpace = removeExtra;
        for (var i = start; i < text.Length; i++)
        {
            var c = text[i];
            if (c == ' ')
            {
                if (!isPrevSpace) buffer[n++] = space;
                isPrevSpace = removeExtra;
                continue;
            }
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                buffer[n++] = c;
                buffer[n++] = text[++i];
            }
            else
            {
                buffer[n++] = char.IsSurrogate(c) ? '\uFFFD' : c;
            }
            isPrevSpace = false;
        }
        if (removeExtra)
        {
            while (n > 0 && buffer[n - 1] == space) n--;
        }
        return n == buffer.Length ? buffer : buffer[..n];
    }

    private void EncodeNormalized(char[] text, List<int> output)
    {
        // Symbols live in parallel arrays indexed by their original start symbol; merged-away symbols get length 0.
        var capacity = text.Length;
        var start = new int[capacity];
        var length = new int[capacity];
        var prev = new int[capacity];
        var next = new int[capacity];
        var frozen = new bool[capacity];
        var count = 0;
        for (var pos = 0; pos < text.Length;)
        {
            var len = MatchUserDefined(text, pos);
            var isFrozen = len > 0;
            if (!isFrozen) len = char.IsHighSurrogate(text[pos]) && pos + 1 < text.Length ? 2 : 1;
            start[count] = pos;
            length[count] = len;
            frozen[count] = isFrozen;
            prev[count] = count - 1;
            pos += len;
            next[count] = pos < text.Length ? count + 1 : -1;
            count++;
        }

        var agenda = new PriorityQueue<SymbolPair, SymbolPair>(Math.Max(count, 1), SymbolPairComparer.Instance);
        Dictionary<string, (string Left, string Right)>? reverseMerges = null;

        void MaybeAddPair(int left, int right)
        {
            if (left < 0 || right < 0 || frozen[left] || frozen[right]) return;
            var size = length[left] + length[right];
            var merged = text.AsSpan(start[left], size);
            if (!_mergeable.TryGetValue(merged, out var id)) return;
            var pair = new SymbolPair(left, right, size, _model.Scores[id]);
            agenda.Enqueue(pair, pair);
            if (_model.Types[id] == PieceType.Unused)
            {
                // sentencepiece never emits UNUSED pieces: it re-splits them into the two symbols they came from.
                reverseMerges ??= new Dictionary<string, (string, string)>(StringComparer.Ordinal);
                reverseMerges[merged.ToString()] =
                    (text.AsSpan(start[left], length[left]).ToString(), text.AsSpan(start[right], length[right]).ToString());
            }
        }

        for (var i = 1; i < count; i++) MaybeAddPair(i - 1, i);

        while (agenda.TryDequeue(out var top, out _))
        {
            // Skip pairs made stale by an earlier merge of either side.
            if (length[top.Left] == 0 || length[top.Right] == 0 || length[top.Left] + length[top.Right] != top.Size) continue;
            length[top.Left] += length[top.Right];
            length[top.Right] = 0;
            next[top.Left] = next[top.Right];
            if (next[top.Right] >= 0) prev[next[top.Right]] = top.Left;
            MaybeAddPair(prev[top.Left], top.Left);
            MaybeAddPair(top.Left, next[top.Left]);
        }

        var previousWasUnknown = false;
        for (var index = 0; index != -1; index = next[index])
        {
            var piece = text.AsSpan(start[index], length[index]);
            if (reverseMerges is not null && LookupId(piece) is var id && _model.Types[id] == PieceType.Unused)
            {
                Resegment(piece.ToString(), reverseMerges, output, ref previousWasUnknown);
            }
            else
            {
                Emit(piece, output, ref previousWasUnknown);
            }
        }
    }

    private void Resegment(string piece, Dictionary<string, (string Left, string Right)> reverseMerges, List<int> output, ref bool previousWasUnknown)
    {
        var id = LookupId(piece);
        if (_model.Types[id] == PieceType.Unused && reverseMerges.TryGetValue(piece, out var parts))
        {
            Resegment(parts.Left, reverseMerges, output, ref previousWasUnknown);
            Resegment(parts.Right, reverseMerges, output, ref previousWasUnknown);
            return;
        }
        Emit(piece, output, ref previousWasUnknown);
    }

    private void Emit(ReadOnlySpan<char> piece, List<int> output, ref bool previousWasUnknown)
    {
        var id = LookupId(piece);
        var isUnknown = id == _model.UnkId;
        if (isUnknown && _model.ByteFallback)
        {
            // Unknown symbols become their UTF-8 bytes as <0xNN> pieces.
            Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(piece.Length)];
            var n = Encoding.UTF8.GetBytes(piece, bytes);
            for (var i = 0; i < n; i++) output.Add(_model.ByteToId[bytes[i]]);
        }
        else if (!(isUnknown && previousWasUnknown))
        {
            // Without byte fallback sentencepiece folds a run of unknown symbols into one <unk>.
            output.Add(id);
        }
        previousWasUnknown = isUnknown;
    }

    private int LookupId(ReadOnlySpan<char> piece) =>
        _reserved.TryGetValue(piece, out var id) || _mergeable.TryGetValue(piece, out id) ? id : _model.UnkId;

    private int MatchUserDefined(char[] text, int pos)
    {
        if (!_userDefinedByFirstChar.TryGetValue(text[pos], out var candidates)) return 0;
        var rest = text.AsSpan(pos);
        foreach (var candidate in candidates)
        {
            if (rest.StartsWith(candidate, StringComparison.Ordinal)) return candidate.Length;
        }
        return 0;
    }

    private readonly record struct SymbolPair(int Left, int Right, int Size, float Score);

    // Highest score first; equal scores: leftmost first (sentencepiece's SymbolPairComparator, as a min-heap order).
    private sealed class SymbolPairComparer : IComparer<SymbolPair>
    {
        public static readonly SymbolPairComparer Instance = new();

        public int Compare(SymbolPair x, SymbolPair y)
        {
            var byScore = y.Score.CompareTo(x.Score);
            return byScore != 0 ? byScore : x.Left.CompareTo(y.Left);
        }
    }
}
