// The request bodies of /v1/chat/completions and /v1/completions (OpenAI fields plus vLLM extras), as received.
// Invariant: plain data; unknown fields are ignored, wrong types fail in JsonBody naming the field; OpenAiSampling validates values.
using System.Text.Json;

namespace Estuary.Server.Apis.OpenAi;

internal abstract class SamplingRequest
{
    public string? Model { get; init; }
    public int? MaxTokens { get; init; }
    public float? Temperature { get; init; }
    public float? TopP { get; init; }
    public int? N { get; init; }
    public JsonElement? Stop { get; init; }
    public long? Seed { get; init; }
    public float? PresencePenalty { get; init; }
    public float? FrequencyPenalty { get; init; }
    public bool? Stream { get; init; }
    public StreamOptions? StreamOptions { get; init; }
    public string? User { get; init; }
    public int? TopK { get; init; }
    public float? MinP { get; init; }
    public float? RepetitionPenalty { get; init; }
    public bool? IgnoreEos { get; init; }
    public int? MinTokens { get; init; }
    public bool? SkipSpecialTokens { get; init; }
    public List<int>? StopTokenIds { get; init; }
    public int? PromptLogprobs { get; init; }
    /// <summary>vLLM's truncate_prompt_tokens: keep only the prompt's last k tokens (-1 = the context length).</summary>
    public int? TruncatePromptTokens { get; init; }
    /// <summary>vLLM's return_tokens_as_token_ids: logprobs name tokens "token_id:1234" rather than by their text.</summary>
    public bool? ReturnTokensAsTokenIds { get; init; }
    /// <summary>vLLM's priority: lower is scheduled first (only when the server runs the priority scheduling policy).</summary>
    public int? Priority { get; init; }

    public JsonElement? LogitBias { get; init; }
    /// <summary>vLLM's allowed_token_ids: the only ids that may be sampled.</summary>
    public List<int>? AllowedTokenIds { get; init; }
    /// <summary>vLLM's bad_words: a string or a list of strings the output may not contain.</summary>
    public JsonElement? BadWords { get; init; }

    // Structured output: OpenAI's response_format and vLLM's guided_* / structured_outputs (read by OpenAiStructuredOutput).
    public JsonElement? ResponseFormat { get; init; }
    public JsonElement? GuidedJson { get; init; }
    public string? GuidedRegex { get; init; }
    public JsonElement? GuidedChoice { get; init; }
    public string? GuidedGrammar { get; init; }
    public JsonElement? StructuredOutputs { get; init; }

    /// <summary>The answer format as chat completions' response_format reads it, and the field to name in errors.</summary>
    internal virtual (JsonElement? Value, string Field, string SchemaPath) AnswerFormat => (ResponseFormat, "response_format", "response_format.json_schema");

    /// <summary>Chat only (see OpenAiTools); on completions a 400.</summary>
    public JsonElement? Tools { get; init; }

    // OpenAI fields Estuary does not implement: read only so that using them is a clear 400 rather than silently ignored.
    public int? BestOf { get; init; }
    public JsonElement? Functions { get; init; }
}

internal sealed class StreamOptions
{
    public bool? IncludeUsage { get; init; }
    /// <summary>vLLM's continuous_usage_stats: with include_usage, every chunk carries its choice's counts so far.</summary>
    public bool? ContinuousUsageStats { get; init; }

    /// <summary>Whether every chunk carries usage (vLLM asks for include_usage as well).</summary>
    public bool Continuous => IncludeUsage == true && ContinuousUsageStats == true;
}

internal sealed class ChatCompletionRequest : SamplingRequest
{
    public List<Shared.ChatMessageDto?>? Messages { get; init; }
    public JsonElement? ToolChoice { get; init; }
    public bool? ParallelToolCalls { get; init; }
    /// <summary>TGI's tool_prompt: what the built-in formats' system message says before the tools.</summary>
    public string? ToolPrompt { get; init; }
    public bool? AddGenerationPrompt { get; init; }
    public bool? ContinueFinalMessage { get; init; }
    /// <summary>vLLM's chat_template_kwargs: more variables for the chat template (e.g. Qwen3's enable_thinking).</summary>
    public JsonElement? ChatTemplateKwargs { get; init; }
    /// <summary>vLLM's include_reasoning: false leaves a reasoning parser's reasoning out of the reply (default true).</summary>
    public bool? IncludeReasoning { get; init; }
    public int? MaxCompletionTokens { get; init; }
    public bool? Logprobs { get; init; }
    public int? TopLogprobs { get; init; }
}

internal sealed class CompletionRequest : SamplingRequest
{
    public JsonElement? Prompt { get; init; }
    public int? Logprobs { get; init; }
    public bool? Echo { get; init; }
    public string? Suffix { get; init; } // not implemented: a non-empty suffix is a 400
}
