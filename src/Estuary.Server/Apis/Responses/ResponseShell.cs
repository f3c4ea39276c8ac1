// What a response object says about its request (id, time, model, instructions, tools, sampling, store, …), and the
// object itself once the reply is in progress or finished: its status from the finish reason, its items and its usage.
// Invariant: the in-progress and the final object of one response differ only in status, output, details and usage.
using System.Text.Json;
using Estuary.Engine;

namespace Estuary.Server.Apis.Responses;

internal sealed class ResponseShell(ResponsesRequest request, SamplingParams sampling, string model, int promptTokens, bool store)
{
    private static readonly JsonElement s_emptyObject = JsonDocument.Parse("{}").RootElement.Clone();
    private static readonly JsonElement s_emptyList = JsonDocument.Parse("[]").RootElement.Clone();
    private static readonly JsonElement s_auto = JsonDocument.Parse("\"auto\"").RootElement.Clone();
    private static readonly JsonElement s_textFormat = JsonDocument.Parse("{\"format\":{\"type\":\"text\"}}").RootElement.Clone();
    private static readonly JsonElement s_noReasoning = JsonDocument.Parse("{\"effort\":null,\"summary\":null}").RootElement.Clone();

    public string Id { get; } = ResponseIds.New("resp");
    public long CreatedAt { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>Whether the finished response is kept in the store.</summary>
    public bool Store { get; } = store;

    /// <summary>The response's (and its items') status for a chat finish reason: completed (stop, tool_calls), else incomplete.</summary>
    public static string Status(string reason) => reason is "stop" or "tool_calls" ? "completed" : "incomplete";

    public ResponseObject InProgress() => Build("in_progress", null, [], null);

    /// <summary>
    /// The finished response: <paramref name="items"/>, the status of <paramref name="reason"/> (cut at max_output_tokens,
    /// or aborted: incomplete, with the reason), usage from the last output (and <paramref name="reasoningTokens"/>).
    /// </summary>
    public ResponseObject Finish(string reason, IReadOnlyList<object> items, RequestOutput? last, int reasoningTokens)
    {
        var status = Status(reason);
        var details = status == "completed" ? null : new ResponseIncompleteDetails(reason == "length" ? "max_output_tokens" : "aborted");
        int input = last?.NumPromptTokens ?? promptTokens, output = last?.NumOutputTokens ?? 0;
        var usage = new ResponseUsage(input, new ResponseInputTokensDetails(last?.NumCachedTokens ?? 0), output,
            new ResponseOutputTokensDetails(reasoningTokens), input + output);
        return Build(status, details, items, usage);
    }

    private ResponseObject Build(string status, ResponseIncompleteDetails? details, IReadOnlyList<object> items, ResponseUsage? usage) => new(
        Id, CreatedAt, status, details, request.Instructions, request.MaxOutputTokens, model, items, request.ParallelToolCalls ?? true,
        request.PreviousResponseId, Given(request.Reasoning) ?? s_noReasoning, Store, sampling.Temperature, Given(request.Text) ?? s_textFormat,
        Given(request.ToolChoice) ?? s_auto, Given(request.Tools) ?? s_emptyList, sampling.TopP, usage, Given(request.Metadata) ?? s_emptyObject, request.User);

    private static JsonElement? Given(JsonElement? value) => value is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } v ? v : null;
}
