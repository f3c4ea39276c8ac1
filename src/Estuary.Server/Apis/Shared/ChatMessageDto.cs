// One chat message as /inference and /v1/chat/completions receive it; content is a string or OpenAI's list of text parts.
// Invariant: ToMessages returns only system/user/assistant roles with non-null text, or throws a 400 naming the message.
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
                null => throw RequestException.BadRequest($"'{at}.role' is required", $"{at}.role"),
                var other => throw RequestException.BadRequest($"'{at}.role' is '{other}'; valid roles are system, user, assistant", $"{at}.role"),
            };
            messages.Add(new ChatMessage(role, ContentText(dto.Content, $"{at}.content", role)));
        }
        return messages;
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
            text.Append(JsonText.Read(t, $"{at}.text"));
        }
        return text.ToString();
    }
}
