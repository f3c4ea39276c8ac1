// One chat message as /inference and /v1/chat/completions receive it; content is a string or OpenAI's list of text parts.
// Invariant: ToMessages returns only system/user/assistant/tool roles with non-null text (assistant turns may carry tool
// calls, tool turns the id they answer), or throws a 400 naming the message.
using System.Text;
using System.Text.Json;
using Estuary.Server.Http;
using Estuary.Server.Generation;
using Estuary.Tokenization;

namespace Estuary.Server.Apis.Shared;

internal sealed class ChatMessageDto
{
    public string? Role { get; init; }
    public JsonElement? Content { get; init; }
    public string? Name { get; init; }
    public List<ToolCallDto?>? ToolCalls { get; init; }
    public string? ToolCallId { get; init; }
    /// <summary>An assistant turn's reasoning (vLLM's field; <see cref="ReasoningContent"/> is its earlier name, also read).</summary>
    public string? Reasoning { get; init; }
    public string? ReasoningContent { get; init; }

    public static List<ChatMessage> ToMessages(IReadOnlyList<ChatMessageDto?>? dtos, string field)
    {
        if (dtos is null) throw RequestException.BadRequest($"'{field}' is required", field);
        if (dtos.Count == 0) throw RequestException.BadRequest($"'{field}' must contain at least one message", field);
        var messages = new List<ChatMessage>(dtos.Count);
        for (int i = 0; i < dtos.Count; i++)
        {
            var at = $"{field}[{i}]";
            var dto = dtos[i] ?? throw RequestException.BadRequest($"'{at}' must be an object", at);
            var role = dto.Role switch
            {
                "system" or "developer" => "system",
                "user" => "user",
                "assistant" => "assistant",
                "tool" => "tool",
                null => throw RequestException.BadRequest($"'{at}.role' is required", $"{at}.role"),
                var other => throw RequestException.BadRequest($"'{at}.role' is '{other}'; valid roles are system, user, assistant, tool", $"{at}.role"),
            };
            if (role == "tool" && string.IsNullOrEmpty(dto.ToolCallId))
                throw RequestException.BadRequest($"'{at}.tool_call_id' is required for a tool message", $"{at}.tool_call_id");
            if (dto.ToolCalls is { Count: > 0 } && role != "assistant")
                throw RequestException.BadRequest($"'{at}.tool_calls' is only allowed on assistant messages", $"{at}.tool_calls");
            var reasoning = ReadReasoning(dto, role, at);
            messages.Add(new ChatMessage(role, ContentText(dto.Content, $"{at}.content", role))
            {
                Reasoning = reasoning,
                // An assistant's empty list is kept: vLLM hands the message to the template as sent (tool_calls defined, empty).
                ToolCalls = role == "assistant" && dto.ToolCalls is { } calls
                    ? [.. calls.Select((c, k) => ToolCallDto.ToCall(c, $"{at}.tool_calls[{k}]"))] : null,
                ToolCallId = role == "tool" ? dto.ToolCallId : null,
            });
        }
        return messages;
    }

    // Either name, or both when they agree; only on an assistant turn (the reasoning before its content).
    private static string? ReadReasoning(ChatMessageDto dto, string role, string at)
    {
        var (reasoning, field) = dto.Reasoning is not null ? (dto.Reasoning, $"{at}.reasoning") : (dto.ReasoningContent, $"{at}.reasoning_content");
        if (reasoning is null) return null;
        if (role != "assistant") throw RequestException.BadRequest($"'{field}' is only allowed on assistant messages", field);
        if (dto.Reasoning is not null && dto.ReasoningContent is not null && dto.Reasoning != dto.ReasoningContent)
            throw RequestException.BadRequest($"'{at}.reasoning' and '{at}.reasoning_content' differ; give one (they are the same field)", field);
        return reasoning;
    }

    private static string ContentText(JsonElement? content, string field, string role)
    {
        if (content is not { } c || c.ValueKind == JsonValueKind.Null)
        {
            // OpenAI allows an assistant turn without content (it then carried tool calls); read it as empty.
            if (role == "assistant") return "";
            throw RequestException.BadRequest($"'{field}' is required", field);
        }
        if (c.ValueKind == JsonValueKind.String) return JsonText.Read(c, field);
        if (c.ValueKind != JsonValueKind.Array) throw RequestException.BadRequest($"'{field}' must be a string or a list of text parts", field);
        var text = new StringBuilder();
        int i = 0;
        foreach (var part in c.EnumerateArray())
        {
            var at = $"{field}[{i++}]";
            if (part.ValueKind != JsonValueKind.Object
                || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                throw RequestException.BadRequest($"'{at}' must be an object with a 'type'", at);
            var typeName = JsonText.Read(type, $"{at}.type");
            if (typeName != "text")
                throw RequestException.BadRequest($"'{at}.type' is '{typeName}'; only text parts are supported", $"{at}.type");
            if (!part.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
                throw RequestException.BadRequest($"'{at}.text' must be a string", $"{at}.text");
            // Parts are joined with a newline, as vLLM (and TensorRT-LLM's OpenAI server) hand a text-only message to a template.
            if (i > 1) text.Append('\n');
            text.Append(JsonText.Read(t, $"{at}.text"));
        }
        return text.ToString();
    }
}

/// <summary>An assistant message's tool call as OpenAI sends it back: {id, type: "function", function: {name, arguments}}.</summary>
internal sealed class ToolCallDto
{
    public string? Id { get; init; }
    public string? Type { get; init; }
    public FunctionDto? Function { get; init; }

    public static ChatToolCall ToCall(ToolCallDto? dto, string at)
    {
        if (dto is null) throw RequestException.BadRequest($"'{at}' must be an object", at);
        if (dto.Type is not (null or "function")) throw RequestException.BadRequest($"'{at}.type' must be 'function'", $"{at}.type");
        if (dto.Function?.Name is not { Length: > 0 } name) throw RequestException.BadRequest($"'{at}.function.name' is required", $"{at}.function.name");
        return new ChatToolCall(dto.Id ?? "", name, dto.Function.Arguments ?? "{}");
    }
}

/// <summary>The function part of a tool call: its name and its arguments as a JSON string.</summary>
internal sealed class FunctionDto
{
    public string? Name { get; init; }
    public string? Arguments { get; init; }
}
