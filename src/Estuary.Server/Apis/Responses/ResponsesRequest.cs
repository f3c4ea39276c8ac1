// The body of POST /v1/responses (OpenAI's Responses API, as vLLM serves it): input items instead of messages,
// instructions, max_output_tokens, text.format, flat function tools, previous_response_id; the sampling fields and vLLM's
// extras are the chat request's.
// Invariant: plain data; unknown fields are ignored, wrong types fail in JsonBody naming the field.
using System.Text.Json;
using Estuary.Server.Apis.OpenAi;

namespace Estuary.Server.Apis.Responses;

internal sealed class ResponsesRequest : SamplingRequest
{
    /// <summary>A string (one user message) or a list of items: messages, function calls, their outputs, reasoning.</summary>
    public JsonElement? Input { get; init; }
    /// <summary>A system message before the input (not carried to a later response through previous_response_id).</summary>
    public string? Instructions { get; init; }
    public int? MaxOutputTokens { get; init; }
    /// <summary>{"format": {"type": "text" | "json_object" | "json_schema", …}}.</summary>
    public JsonElement? Text { get; init; }
    public JsonElement? ToolChoice { get; init; }
    public bool? ParallelToolCalls { get; init; }
    public string? PreviousResponseId { get; init; }
    public bool? Store { get; init; }
    public JsonElement? Metadata { get; init; }
    /// <summary>{"effort", "summary"}: echoed; a model's thinking is turned on or off through its template (chat_template_kwargs).</summary>
    public JsonElement? Reasoning { get; init; }
    public string? Truncation { get; init; }
    public bool? Background { get; init; }
    public JsonElement? Include { get; init; }
    public int? TopLogprobs { get; init; }
    /// <summary>vLLM's chat_template_kwargs: more variables for the chat template (e.g. Qwen3's enable_thinking).</summary>
    public JsonElement? ChatTemplateKwargs { get; init; }

    /// <summary>text.format, read as a response_format (its json_schema fields sit beside "type").</summary>
    internal override (JsonElement? Value, string Field, string SchemaPath) AnswerFormat => (ResponseInput.ResponseFormat(Text), "text.format", "text.format");
}
