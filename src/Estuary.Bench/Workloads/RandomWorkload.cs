// Random prompts of exactly N tokens for a tokenizer: random ids → text → re-encoded, trimmed or extended until the text encodes
// to N tokens (as vLLM's random dataset does), so every dialect sends text the server tokenizes to the intended length.
using Estuary.Tokenization;

namespace Estuary.Bench.Workloads;

/// <summary>Builds random-token workloads.</summary>
public static class RandomWorkload
{
    /// <summary><paramref name="count"/> prompts of <paramref name="inputLength"/> tokens, each asking for <paramref name="outputLength"/> tokens.</summary>
    public static IReadOnlyList<BenchRequest> Build(TextTokenizer tokenizer, int count, int inputLength, int outputLength, int seed)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), "--num-prompts must be at least 1");
        if (inputLength < 1) throw new ArgumentOutOfRangeException(nameof(inputLength), "--input-len must be at least 1");
        if (outputLength < 1) throw new ArgumentOutOfRangeException(nameof(outputLength), "--output-len must be at least 1");
        var rng = new Random(seed);
        var usable = UsableIds(tokenizer);
        var result = new BenchRequest[count];
        for (int i = 0; i < count; i++)
        {
            var (text, ids) = Exact(tokenizer, usable, inputLength, rng);
            result[i] = new BenchRequest(i, text, ids, outputLength);
        }
        return result;
    }

    // Ids whose piece is ordinary text (no control, byte or user-defined markers, no part of a character), so decoded prompts
    // are plain text.
    private static int[] UsableIds(TextTokenizer tokenizer)
    {
        var ids = new List<int>();
        for (int id = 0; id < tokenizer.VocabSize; id++)
        {
            if (tokenizer.IsControl(id)) continue;
            var piece = tokenizer.IdToPiece(id);
            if (piece.StartsWith("<", StringComparison.Ordinal) && piece.EndsWith('>')) continue;
            if (tokenizer.TokenText(id).Contains('\uFFFD')) continue;
            ids.Add(id);
        }
        if (ids.Count == 0) throw new InvalidOperationException("the tokenizer has no ordinary text pieces to build prompts from");
        return [.. ids];
    }

    private static (string Text, int[] Ids) Exact(TextTokenizer tokenizer, int[] usable, int length, Random rng)
    {
        var draft = new List<int>(length + 8);
        for (int i = 0; i < length; i++) draft.Add(usable[rng.Next(usable.Length)]);
        string text = tokenizer.Decode(draft.ToArray());
        for (int attempt = 0; attempt < 64; attempt++)
        {
            var ids = tokenizer.Encode(text, addSpecialTokens: false);
            if (ids.Length == length) return (text, ids);
            if (ids.Length > length) text = tokenizer.Decode(ids.AsSpan(0, length));
            else
            {
                var extended = new List<int>(ids);
                while (extended.Count < length) extended.Add(usable[rng.Next(usable.Length)]);
                text = tokenizer.Decode(extended.ToArray());
            }
        }
        var last = tokenizer.Encode(text, addSpecialTokens: false);
        return (text, last); // closest found; lengths are reported from these ids
    }
}
