// vLLM's truncate_prompt_tokens: keep only the last k tokens of a prompt (k ≥ 1, or -1 for the model's context length).
// Invariant: k is checked before any prompt is cut (0, below -1 or above max_model_len is a 400 naming the field); a prompt
// no longer than k is returned as it is.
using Estuary.Server.Generation;
using Estuary.Tokenization;

namespace Estuary.Server.Apis.OpenAi;

internal static class PromptTruncation
{
    public const string Field = "truncate_prompt_tokens";

    /// <summary>How many prompt tokens to keep (null = all), after checking the asked value against the context length.</summary>
    public static int? KeepCount(ServedModel model, int? asked)
    {
        if (asked is not { } k) return null;
        if (k == -1) return model.MaxModelLen;
        if (k < 1) throw RequestException.BadRequest($"{Field} must be -1 (the context length) or at least 1 (got {k})", Field);
        if (k > model.MaxModelLen)
            throw RequestException.BadRequest($"{Field} is {k} but the context length (max_model_len) is {model.MaxModelLen}", Field);
        return k;
    }

    /// <summary>The last <paramref name="keep"/> tokens of <paramref name="promptIds"/> (the ids themselves when they fit).</summary>
    public static int[] Apply(int[] promptIds, int? keep) =>
        keep is { } k && promptIds.Length > k ? promptIds[^k..] : promptIds;

    /// <summary>A completions prompt cut to its last tokens; its echo text becomes the kept tokens' text.</summary>
    public static (int[] Ids, string Text) Apply((int[] Ids, string Text) prompt, int? keep, TextTokenizer tokenizer)
    {
        var kept = Apply(prompt.Ids, keep);
        return ReferenceEquals(kept, prompt.Ids) ? prompt : (kept, tokenizer.Decode(kept));
    }
}
