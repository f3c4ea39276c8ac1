// Renders the engine's per-token log-probabilities in OpenAI's two shapes (chat "content" entries, legacy completions arrays).
// Invariant: a token's text is TextTokenizer.TokenText (or "token_id:N", see LogprobTokenNames) (a SentencePiece piece with '▁' shown as a space, a byte-level token's
// bytes as UTF-8), so adjacent tokens read as the text does.
using System.Globalization;
using Estuary.Engine.Sampling;
using Estuary.Tokenization;

namespace Estuary.Server.Apis.OpenAi;

internal static class OpenAiLogprobs
{
    public static ChatTokenLogprob ForChat(LogprobTokenNames names, SampleResult s)
    {
        var top = new List<TopLogprob>();
        foreach (var t in s.TopLogprobs ?? [])
        {
            var text = names.Name(t.TokenId);
            top.Add(new TopLogprob(text, t.Logprob, names.Bytes(t.TokenId, text)));
        }
        var token = names.Name(s.TokenId);
        return new ChatTokenLogprob(token, s.Logprob, names.Bytes(s.TokenId, token), top);
    }

    /// <summary>Appends one token to a legacy completions logprobs object; <paramref name="offset"/> is the token's text offset.</summary>
    public static void AddForCompletion(CompletionLogprobs into, LogprobTokenNames names, SampleResult s, int offset)
    {
        into.Tokens.Add(names.Name(s.TokenId));
        into.TokenLogprobs.Add(s.Logprob);
        var top = new Dictionary<string, float>();
        foreach (var t in s.TopLogprobs ?? []) top.TryAdd(names.Name(t.TokenId), t.Logprob);
        into.TopLogprobs.Add(top);
        into.TextOffset.Add(offset);
    }

    /// <summary>
    /// Appends the prompt's tokens (echo): the first with no log-probability (nothing precedes it), then each under the tokens
    /// before it. Text offsets are where each token's decoded text starts.
    /// </summary>
    public static void AddPromptForCompletion(CompletionLogprobs into, LogprobTokenNames names, int[] promptIds, IReadOnlyList<SampleResult> promptLogprobs, int topK)
    {
        if (promptIds.Length == 0) return;
        var detokenizer = names.Tokenizer.CreateDetokenizer();
        into.Tokens.Add(names.Name(promptIds[0]));
        into.TokenLogprobs.Add(null);
        into.TopLogprobs.Add(null);
        into.TextOffset.Add(0);
        int offset = detokenizer.Add(promptIds[0]).Length; // the decoded text's length so far, from the deltas
        for (int k = 1; k < promptIds.Length && k - 1 < promptLogprobs.Count; k++)
        {
            var s = promptLogprobs[k - 1];
            AddForCompletion(into, names, s with { TopLogprobs = s.TopLogprobs?[..Math.Min(topK, s.TopLogprobs.Length)] }, offset);
            offset += detokenizer.Add(promptIds[k]).Length;
        }
    }

    /// <summary>
    /// vLLM's prompt_logprobs: null for the first prompt token, then for each token a map from token id to its log-probability,
    /// rank and text, holding the prompt's own token and the <paramref name="topK"/> most likely ones.
    /// </summary>
    public static List<Dictionary<string, PromptTokenLogprob>?> VllmPromptLogprobs(TextTokenizer tokenizer, IReadOnlyList<SampleResult> promptLogprobs, int topK)
    {
        var result = new List<Dictionary<string, PromptTokenLogprob>?>(promptLogprobs.Count + 1) { null };
        foreach (var s in promptLogprobs)
        {
            var entry = new Dictionary<string, PromptTokenLogprob>();
            var top = s.TopLogprobs ?? [];
            for (int j = 0; j < Math.Min(topK, top.Length); j++)
                entry[top[j].TokenId.ToString(CultureInfo.InvariantCulture)] = new PromptTokenLogprob(top[j].Logprob, j + 1, tokenizer.TokenText(top[j].TokenId));
            entry[s.TokenId.ToString(CultureInfo.InvariantCulture)] = new PromptTokenLogprob(s.Logprob, s.Rank, tokenizer.TokenText(s.TokenId));
            result.Add(entry);
        }
        return result;
    }
}
