// The response bodies of the OpenAI API family, field for field as OpenAI sends them (snake_case, nulls written).
// Invariant: plain data, serialized with ApiJson.Options.
using System.Text.Json.Serialization;

namespace Estuary.Server.Apis.OpenAi;

internal sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens)
{
    /// <summary>With a reasoning parser: how many of the completion tokens were reasoning (OpenAI's field).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public CompletionTokensDetails? CompletionTokensDetails { get; init; }
}

internal sealed record CompletionTokensDetails(int ReasoningTokens);

internal sealed record ModelList(IReadOnlyList<ModelCard> Data)
{
    public string Object => "list";
}

internal sealed record ModelCard(string Id, long Created, int MaxModelLen)
{
    public string Object => "model";
    public string OwnedBy => "estuary";
}

internal sealed record ChatCompletion(string Id, long Created, string Model, IReadOnlyList<ChatChoice> Choices, Usage Usage,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<Dictionary<string, PromptTokenLogprob>?>? PromptLogprobs = null)
{
    public string Object => "chat.completion";
    public string? SystemFingerprint => null;
}

internal sealed record ChatChoice(int Index, ChatMessageOut Message, ChatLogprobs? Logprobs, string? FinishReason);

internal sealed record ChatMessageOut(string? Content,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ToolCallOut>? ToolCalls = null)
{
    public string Role => "assistant";
    public string? Refusal => null;

    /// <summary>The reasoning before the content (with a reasoning parser): vLLM's field, and its earlier name below.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Reasoning { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ReasoningContent => Reasoning;
}

internal sealed record ToolCallOut(string Id, FunctionCallOut Function)
{
    public string Type => "function";
}

internal sealed record FunctionCallOut(string Name, string Arguments);

/// <summary>A streamed piece of a tool call: the first names it (id, type, name), later ones add to its arguments.</summary>
internal sealed record ToolCallDelta(int Index,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Id,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Type,
    FunctionCallDelta Function);

internal sealed record FunctionCallDelta(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Name,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Arguments);

internal sealed record ChatCompletionChunk(string Id, long Created, string Model, IReadOnlyList<ChatChunkChoice> Choices, Usage? Usage)
{
    public string Object => "chat.completion.chunk";
    public string? SystemFingerprint => null;
}

internal sealed record ChatChunkChoice(int Index, ChatDelta Delta, ChatLogprobs? Logprobs, string? FinishReason);

internal sealed record ChatDelta(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ToolCallDelta>? ToolCalls = null)
{
    /// <summary>A piece of the reasoning (with a reasoning parser), under vLLM's name and its earlier one.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Reasoning { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ReasoningContent => Reasoning;
}

internal sealed record ChatLogprobs(IReadOnlyList<ChatTokenLogprob> Content);

internal sealed record ChatTokenLogprob(string Token, float Logprob, IReadOnlyList<int> Bytes, IReadOnlyList<TopLogprob> TopLogprobs);

internal sealed record TopLogprob(string Token, float Logprob, IReadOnlyList<int> Bytes);

internal sealed record Completion(string Id, long Created, string Model, IReadOnlyList<CompletionChoice> Choices, Usage? Usage)
{
    public string Object => "text_completion";
    public string? SystemFingerprint => null;
}

internal sealed record CompletionChoice(int Index, string Text, CompletionLogprobs? Logprobs, string? FinishReason,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<Dictionary<string, PromptTokenLogprob>?>? PromptLogprobs = null);

/// <summary>vLLM's prompt_logprobs entry: one per token id (the prompt's own and the top alternatives).</summary>
internal sealed record PromptTokenLogprob(float Logprob, int Rank, string DecodedToken);

/// <summary>OpenAI's legacy logprobs arrays; with echo the prompt's tokens come first, the very first with null entries.</summary>
internal sealed record CompletionLogprobs(List<string> Tokens, List<float?> TokenLogprobs, List<Dictionary<string, float>?> TopLogprobs, List<int> TextOffset)
{
    public static CompletionLogprobs Empty() => new([], [], [], []);

    /// <summary>Appends <paramref name="more"/>'s entries after these.</summary>
    public void Append(CompletionLogprobs more)
    {
        Tokens.AddRange(more.Tokens);
        TokenLogprobs.AddRange(more.TokenLogprobs);
        TopLogprobs.AddRange(more.TopLogprobs);
        TextOffset.AddRange(more.TextOffset);
    }
}
