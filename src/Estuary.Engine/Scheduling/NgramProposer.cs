// Prompt-lookup drafts for speculative decoding (vLLM's "ngram" method, transformers' prompt_lookup_num_tokens): the tokens
// that followed the latest earlier occurrence of the sequence's last n tokens, trying the longest n first. Text that repeats
// its context (summaries, code edits, quoted documents, extraction) gets long accepted runs; other text gets few drafts.
// Invariant: proposes only tokens already in the sequence, at most maxDraft of them; never allocates (the draft list is reused).
namespace Estuary.Engine.Scheduling;

internal sealed class NgramProposer(int minN, int maxN)
{
    /// <summary>
    /// Appends to <paramref name="draft"/> up to <paramref name="maxDraft"/> tokens that followed the latest earlier occurrence
    /// of the last n tokens of <paramref name="tokens"/> (n from max down to min); returns how many.
    /// </summary>
    public int Propose(List<int> tokens, int maxDraft, List<int> draft)
    {
        int count = tokens.Count;
        var all = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tokens);
        for (int n = Math.Min(maxN, count - 1); n >= minN; n--)
        {
            var suffix = all[(count - n)..];
            // Latest start i < count - n whose n tokens equal the suffix; what follows it is the draft.
            for (int i = count - n - 1; i >= 0; i--)
            {
                if (all[i] != suffix[0] || !all.Slice(i, n).SequenceEqual(suffix)) continue;
                int take = Math.Min(maxDraft, count - (i + n));
                for (int k = 0; k < take; k++) draft.Add(all[i + n + k]);
                return take;
            }
        }
        return 0;
    }
}
