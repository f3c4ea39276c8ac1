// Per-request sampling and stopping settings; Validate() returns messages naming the field (the server's 400s).
namespace Estuary.Engine;

/// <summary>How one request samples and when it stops.</summary>
public sealed record SamplingParams
{
    /// <summary>
    /// Most alternatives per token a request may ask logprobs for unless the engine says otherwise (OpenAI's limit, vLLM's
    /// --max-logprobs default; see <see cref="EngineConfig.MaxLogprobs"/>).
    /// </summary>
    public const int DefaultMaxLogprobs = 20;

    /// <summary>0 = greedy.</summary>
    public float Temperature { get; init; } = 1.0f;
    /// <summary>Keep the k most likely tokens (0 or -1 = all).</summary>
    public int TopK { get; init; }
    /// <summary>Nucleus mass, in (0, 1].</summary>
    public float TopP { get; init; } = 1.0f;
    /// <summary>Drop tokens with p &lt; MinP · p_max, in [0, 1].</summary>
    public float MinP { get; init; }
    /// <summary>HF repetition penalty over prompt and output tokens (1 = off).</summary>
    public float RepetitionPenalty { get; init; } = 1.0f;
    /// <summary>OpenAI presence penalty over output tokens, in [-2, 2].</summary>
    public float PresencePenalty { get; init; }
    /// <summary>OpenAI frequency penalty over output tokens, in [-2, 2].</summary>
    public float FrequencyPenalty { get; init; }
    /// <summary>Maximum new tokens (null = until the context is full).</summary>
    public int? MaxTokens { get; init; } = 16;
    /// <summary>EOS and stop ids are banned until this many tokens were generated.</summary>
    public int MinTokens { get; init; }
    /// <summary>Seed of this request's own random generator (null = random).</summary>
    public long? Seed { get; init; }
    /// <summary>Extra token ids that end the request.</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];
    /// <summary>Strings that end the request; they are not part of the output text.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];
    /// <summary>Most a logit_bias value may add or take away (OpenAI's range).</summary>
    public const float MaxLogitBias = 100f;

    /// <summary>Added to the logits of these token ids before penalties and sampling (OpenAI <c>logit_bias</c>; ±100 bans or forces).</summary>
    public IReadOnlyDictionary<int, float> LogitBias { get; init; } = new Dictionary<int, float>();
    /// <summary>
    /// The only token ids that may be sampled (vLLM's allowed_token_ids; null = every id). A mask over the logits after the
    /// model's logprobs are taken, so logprobs stay the model's.
    /// </summary>
    public IReadOnlyList<int>? AllowedTokenIds { get; init; }
    /// <summary>Strings the model may not produce (their token sequences are banned).</summary>
    public IReadOnlyList<string> BadWords { get; init; } = [];
    /// <summary>Keep generating past EOS.</summary>
    public bool IgnoreEos { get; init; }
    /// <summary>Number of top log-probabilities to return per token (null = none).</summary>
    public int? Logprobs { get; init; }
    /// <summary>
    /// Log-probabilities of every prompt token after the first (each under the tokens before it), with this many alternatives
    /// each (null = none; vLLM's prompt_logprobs). The prompt is then computed in full rather than read from the prefix cache.
    /// </summary>
    public int? PromptLogprobs { get; init; }
    /// <summary>Leave special tokens out of the text.</summary>
    public bool SkipSpecialTokens { get; init; } = true;
    /// <summary>
    /// What the whole output must look like (JSON, a schema, a regex, a choice; null = free text). Only tokens that keep the
    /// text a prefix of a match are sampled, and the request stops as soon as the text is complete (finish reason stop).
    /// Logprobs stay those of the model.
    /// </summary>
    public StructuredOutput? StructuredOutput { get; init; }
    /// <summary>
    /// When set, <see cref="StructuredOutput"/> applies only to the text after the first time the model generates this token
    /// (the end of its reasoning, e.g. &lt;/think&gt;, as vLLM's reasoning parsers defer the grammar); the output before it and the
    /// token itself are free. Null = the constraint applies from the first token.
    /// </summary>
    public int? StructuredOutputAfterTokenId { get; init; }
    /// <summary>
    /// Scheduling priority (vLLM's priority): with <see cref="Scheduling.RequestOrder.Priority"/>, lower values are admitted first
    /// and preempted last; arrival order among equals. Must stay 0 under first-come-first-served.
    /// </summary>
    public int Priority { get; init; }
    /// <summary>Name of a loaded LoRA adapter to generate with (null = the base model).</summary>
    public string? LoraName { get; init; }

    /// <summary>Greedy decoding with no limit but <paramref name="maxTokens"/>.</summary>
    public static SamplingParams Greedy(int? maxTokens = 16) => new() { Temperature = 0, MaxTokens = maxTokens };

    /// <summary>Whether the request picks the argmax.</summary>
    public bool IsGreedy => Temperature < 1e-5f;

    /// <summary>
    /// Problems with the settings, each naming the field; empty when valid. <paramref name="maxLogprobs"/> is the most
    /// logprobs / prompt_logprobs the engine allows.
    /// </summary>
    public IReadOnlyList<string> Validate(int maxLogprobs = DefaultMaxLogprobs)
    {
        var errors = new List<string>();
        if (!(Temperature >= 0) || float.IsInfinity(Temperature)) errors.Add($"temperature must be a finite number >= 0 (got {Temperature})");
        if (TopK < -1) errors.Add($"top_k must be -1, 0 or positive (got {TopK})");
        if (!(TopP > 0 && TopP <= 1)) errors.Add($"top_p must be in (0, 1] (got {TopP})");
        if (!(MinP >= 0 && MinP <= 1)) errors.Add($"min_p must be in [0, 1] (got {MinP})");
        if (!(RepetitionPenalty > 0) || float.IsInfinity(RepetitionPenalty)) errors.Add($"repetition_penalty must be > 0 (got {RepetitionPenalty})");
        if (!(PresencePenalty >= -2 && PresencePenalty <= 2)) errors.Add($"presence_penalty must be in [-2, 2] (got {PresencePenalty})");
        if (!(FrequencyPenalty >= -2 && FrequencyPenalty <= 2)) errors.Add($"frequency_penalty must be in [-2, 2] (got {FrequencyPenalty})");
        if (MaxTokens is < 1) errors.Add($"max_tokens must be at least 1 (got {MaxTokens})");
        if (MinTokens < 0) errors.Add($"min_tokens must be >= 0 (got {MinTokens})");
        if (MaxTokens.HasValue && MinTokens > MaxTokens) errors.Add($"min_tokens ({MinTokens}) must not exceed max_tokens ({MaxTokens})");
        if (Logprobs < 0 || Logprobs > maxLogprobs) errors.Add($"logprobs must be in [0, {maxLogprobs}] (got {Logprobs}; the server's max_logprobs is {maxLogprobs})");
        if (PromptLogprobs < 0 || PromptLogprobs > maxLogprobs)
            errors.Add($"prompt_logprobs must be in [0, {maxLogprobs}] (got {PromptLogprobs}; the server's max_logprobs is {maxLogprobs})");
        foreach (var s in Stop)
            if (string.IsNullOrEmpty(s)) errors.Add("stop strings must not be empty");
        if (StructuredOutputAfterTokenId is { } after && StructuredOutput is null)
            errors.Add($"structured output after token {after} needs a structured output");
        if (StructuredOutputAfterTokenId is < 0) errors.Add($"structured output after token {StructuredOutputAfterTokenId}: the id is negative");
        if (AllowedTokenIds is { Count: 0 }) errors.Add("allowed_token_ids must not be empty (leave it out to allow every token)");
        foreach (var id in AllowedTokenIds ?? [])
        {
            if (id >= 0) continue;
            errors.Add($"allowed_token_ids: token id {id} is negative");
            break;
        }
        foreach (var (id, bias) in LogitBias)
        {
            if (id < 0) errors.Add($"logit_bias token id {id} is negative");
            if (!(bias >= -MaxLogitBias && bias <= MaxLogitBias))
                errors.Add($"logit_bias for token {id} must be in [-{MaxLogitBias}, {MaxLogitBias}] (got {bias})");
        }
        return errors;
    }

    /// <summary>Throws <see cref="ArgumentException"/> listing every problem.</summary>
    public void EnsureValid()
    {
        var errors = Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));
    }
}
