// Renders the engine's per-token log-probabilities in OpenAI's two shapes (chat "content" entries, legacy completions arrays).
// Invariant: a token's text is TextTokenizer.TokenText (a SentencePiece piece with '▁' shown as a space, a byte-level token's
// bytes as UTF-8), so adjacent tokens read as the text does.
using System.Globalization;
using System.Text;
using Estuary.Engine.Sampling;
using Estuary.Tokenization;

namespace Estuary.Server.Apis.OpenAi;

internal static class OpenAiLogprobs
{
    public static ChatTokenLogprob ForChat(TextTokenizer tokenizer, SampleResult s)
    {
        var top = new List<TopLogprob>();
        foreach (var t in s.TopLogprobs ?? [])
        {
            var text = tokenizer.TokenText(t.TokenId);
            top.Add(new TopLogprob(text, t.Logprob, Bytes(tokenizer, t.TokenId, text)));
        }
        var token = tokenizer.TokenText(s.TokenId);
        return new ChatTokenLogprob(token, s.Logprob, Bytes(tokenizer, s.TokenId, token), top);
    }

    /// <summary>Appends one token to a legacy completions logprobs object; <paramref name="offset"/> is the token's text offset.</summary>
    public static void AddForCompletion(CompletionLogprobs into, TextTokenizer tokenizer, SampleResult s, int offset)
    {
        into.Tokens.Add(tokenizer.TokenText(s.TokenId));
        into.TokenLogprobs.Add(s.Logprob);
        var top = new Dictionary<string, float>();
        foreach (var t in s.TopLogprobs ?? []) top.TryAdd(tokenizer.TokenText(t.TokenId), t.Logprob);
        into.TopLogprobs.Add(top);
        into.TextOffset.Add(offset);
    }

    /// <summary>
    /// Appends the prompt's tokens (echo): the first with no log-probability (nothing precedes it), then each under the tokens
    /// before it. Text offsets are where each token's decoded text starts.
    /// </summary>
    public static void AddPromptForCompletion(CompletionLogprobs into, TextTokenizer tokenizer, int[] promptIds, IReadOnlyList<SampleResult> promptLogprobs, int topK)
    {
        if (promptIds.Length == 0) return;
        var detokenizer = tokenizer.CreateDetokenizer();
        into.Tokens.Add(tokenizer.TokenText(promptIds[0]));
        into.TokenLogprobs.Add(null);
        into.TopLogprobs.Add(null);
        into.TextOffset.Add(0);
        int offset = detokenizer.Add(promptIds[0]).Length; // the decoded text's length so far, from the deltas
        for (int k = 1; k < promptIds.Length && k - 1 < promptLogprobs.Count; k++)
        {
            var s = promptLogprobs[k - 1];
            AddForCompletion(into, tokenizer, s with { TopLogprobs = s.TopLogprobs?[..Math.Min(topK, s.TopLogprobs.Length)] }, offset);
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

    // The token's own bytes where it has text (so part of a character keeps its real bytes, as OpenAI's "bytes" field gives
    // them), else those of its shown text (a special token's name).
    private static int[] Bytes(TextTokenizer tokenizer, int id, string text) =>
        [.. (tokenizer.TokenBytes(id) ?? Encoding.UTF8.GetBytes(text)).Select(b => (int)b)];
}
