// The bodies of the Responses API, field for field as OpenAI sends them (snake_case, nulls written): the response object,
// its output items (reasoning, message, function_call) and their parts, and usage.
// Invariant: plain data, serialized with ApiJson.Options; output items are serialized by their runtime type.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Estuary.Server.Apis.Responses;

internal sealed record ResponseObject(
    string Id, long CreatedAt, string Status, ResponseIncompleteDetails? IncompleteDetails, string? Instructions, int? MaxOutputTokens,
    string Model, IReadOnlyList<object> Output, bool ParallelToolCalls, string? PreviousResponseId, JsonElement Reasoning, bool Store,
    float? Temperature, JsonElement Text, JsonElement ToolChoice, JsonElement Tools, float? TopP, ResponseUsage? Usage, JsonElement Metadata,
    string? User)
{
    public string Object => "response";
    public object? Error => null;
    public string Truncation => "disabled";
}

internal sealed record ResponseIncompleteDetails(string Reason);

internal sealed record ResponseUsage(int InputTokens, ResponseInputTokensDetails InputTokensDetails, int OutputTokens,
    ResponseOutputTokensDetails OutputTokensDetails, int TotalTokens);

internal sealed record ResponseInputTokensDetails(int CachedTokens);

internal sealed record ResponseOutputTokensDetails(int ReasoningTokens);

internal sealed record ResponseMessageItem(string Id, string Status, IReadOnlyList<OutputTextPart> Content)
{
    public string Type => "message";
    public string Role => "assistant";
}

internal sealed record OutputTextPart(string Text)
{
    public string Type => "output_text";
    public IReadOnlyList<object> Annotations => [];
    public IReadOnlyList<object> Logprobs => [];
}

internal sealed record ReasoningItem(string Id, string Status, IReadOnlyList<ReasoningTextPart> Content)
{
    public string Type => "reasoning";
    public IReadOnlyList<object> Summary => [];
}

internal sealed record ReasoningTextPart(string Text)
{
    public string Type => "reasoning_text";
}

internal sealed record FunctionCallItem(string Id, string CallId, string Name, string Arguments, string Status)
{
    public string Type => "function_call";
}

/// <summary>Ids of the Responses API's objects: a prefix and 32 hex digits, as OpenAI's look.</summary>
internal static class ResponseIds
{
    public static string New(string prefix) => prefix + "_" + Guid.NewGuid().ToString("N");
}
