// Reads a Responses request's input into chat turns and its tools into the chat API's shapes, with 400s naming the field:
// message items (roles user, system, developer, assistant; text or input_text/output_text parts), function_call items (the
// assistant's calls, joined into one assistant turn), function_call_output items (tool turns) and reasoning items (the next
// assistant turn's reasoning). Flat function tools and {"type": "function", "name"} choices become chat completions' nested
// ones; text.format becomes a response_format.
// Invariant: content a text model cannot read (images, files, audio) and hosted tools are refused by name, never dropped.
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Estuary.Server.Generation;
using Estuary.Server.Http;
using Estuary.Tokenization;

namespace Estuary.Server.Apis.Responses;

internal static class ResponseInput
{
    /// <summary>The input's turns (a string is one user turn); empty for an absent input.</summary>
    public static List<ChatMessage> ToMessages(JsonElement? input)
    {
        var turns = new List<ChatMessage>();
        if (input is not { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } value) return turns;
        if (value.ValueKind == JsonValueKind.String)
        {
            turns.Add(new ChatMessage(ChatRoles.User, JsonText.Read(value, "input")));
            return turns;
        }
        if (value.ValueKind != JsonValueKind.Array) throw RequestException.BadRequest("'input' must be a string or a list of items", "input");
        string? reasoning = null; // a reasoning item's text, for the assistant turn that follows it
        int i = 0;
        foreach (var item in value.EnumerateArray())
        {
            var at = $"input[{i++}]";
            if (item.ValueKind != JsonValueKind.Object) throw RequestException.BadRequest($"'{at}' must be an object", at);
            var type = item.TryGetProperty("type", out var t) ? (t.ValueKind == JsonValueKind.String ? JsonText.Read(t, $"{at}.type")
                : throw RequestException.BadRequest($"'{at}.type' must be a string", $"{at}.type")) : "message";
            switch (type)
            {
                case "message":
                    var role = Role(item, at);
                    turns.Add(new ChatMessage(role, Content(item, at)) { Reasoning = role == ChatRoles.Assistant ? reasoning : null });
                    reasoning = null; // reasoning belongs to the assistant turn right after it
                    break;
                case "function_call":
                    var call = new ChatToolCall(String(item, "call_id", at), String(item, "name", at), String(item, "arguments", at));
                    // Calls join the assistant turn they follow (its text, earlier calls), as one chat message carries them.
                    if (turns.Count > 0 && turns[^1].Role == ChatRoles.Assistant && reasoning is null)
                        turns[^1] = turns[^1] with { ToolCalls = [.. turns[^1].ToolCalls ?? [], call] };
                    else turns.Add(new ChatMessage(ChatRoles.Assistant, "") { ToolCalls = [call], Reasoning = reasoning });
                    reasoning = null;
                    break;
                case "function_call_output":
                    var callId = String(item, "call_id", at);
                    if (!item.TryGetProperty("output", out var output) || output.ValueKind == JsonValueKind.Null)
                        throw RequestException.BadRequest($"'{at}.output' is required", $"{at}.output");
                    turns.Add(new ChatMessage(ChatRoles.Tool, output.ValueKind == JsonValueKind.String ? JsonText.Read(output, $"{at}.output") : PartsText(output, $"{at}.output"))
                    {
                        ToolCallId = callId,
                    });
                    break;
                case "reasoning":
                    reasoning = ReasoningText(item, at);
                    break;
                default:
                    throw RequestException.BadRequest($"'{at}.type' is '{type}'; the items this server reads are message, function_call, " +
                        "function_call_output and reasoning", $"{at}.type");
            }
        }
        return turns;
    }

    /// <summary>
    /// The input as OpenAI lists it back (GET /v1/responses/{id}/input_items): a string is one user message; every item gets
    /// its type and an id when it has none, and a message's text content becomes one input_text (output_text for the
    /// assistant) part. Call after <see cref="ToMessages"/>, which validated the items.
    /// </summary>
    public static List<JsonObject> Items(JsonElement? input)
    {
        var items = new List<JsonObject>();
        if (input is not { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } value) return items;
        if (value.ValueKind == JsonValueKind.String)
        {
            items.Add(Message("user", JsonText.Read(value, "input")));
            return items;
        }
        int index = 0;
        foreach (var element in value.EnumerateArray())
        {
            var at = $"input[{index++}]";
            var item = JsonNode.Parse(element.GetRawText())!.AsObject();
            if (item["id"] is { } id && id.GetValueKind() != JsonValueKind.String)
                throw RequestException.BadRequest($"'{at}.id' must be a string", $"{at}.id");
            var type = (string?)item["type"] ?? "message";
            item["type"] = type;
            if (type == "message" && item["content"] is JsonValue text && text.GetValueKind() == JsonValueKind.String)
                item["content"] = new JsonArray(Part((string?)item["role"] == "assistant" ? "output_text" : "input_text", (string)text!));
            if (item["id"] is null)
                item["id"] = ResponseIds.New(type switch { "function_call" => "fc", "function_call_output" => "fco", "reasoning" => "rs", _ => "msg" });
            items.Add(item);
        }
        return items;

        static JsonObject Message(string role, string text) =>
            new() { ["type"] = "message", ["role"] = role, ["content"] = new JsonArray(Part("input_text", text)), ["id"] = ResponseIds.New("msg") };
        static JsonObject Part(string type, string text) => new() { ["type"] = type, ["text"] = text };
    }

    /// <summary>The tools in chat completions' shape ({"type": "function", "function": {name, description, parameters}}), or null.</summary>
    public static JsonElement? ChatTools(JsonElement? tools)
    {
        if (tools is not { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } value) return null;
        if (value.ValueKind != JsonValueKind.Array) throw RequestException.BadRequest("'tools' must be a list of function tools", "tools");
        var chat = new JsonArray();
        int i = 0;
        foreach (var tool in value.EnumerateArray())
        {
            var at = $"tools[{i++}]";
            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                throw RequestException.BadRequest($"'{at}' must be an object with a 'type'", "tools");
            if (!type.ValueEquals("function"))
                throw RequestException.BadRequest($"'{at}.type' is '{JsonText.Read(type, $"{at}.type")}'; only function tools can be called by this server " +
                    "(hosted tools such as web_search, file_search or mcp are not available)", "tools");
            var function = new JsonObject();
            foreach (var property in tool.EnumerateObject())
                if (property.Name != "type") function[property.Name] = JsonNode.Parse(property.Value.GetRawText());
            chat.Add(new JsonObject { ["type"] = "function", ["function"] = function });
        }
        return JsonSerializer.SerializeToElement(chat);
    }

    /// <summary>tool_choice in chat completions' shape: the strings as they are, {"type": "function", "name"} nested.</summary>
    public static JsonElement? ChatToolChoice(JsonElement? choice)
    {
        if (choice is not { ValueKind: JsonValueKind.Object } value) return choice;
        if (value.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.ValueEquals("function")
            && value.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
            return JsonSerializer.SerializeToElement(new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = JsonText.Read(name, "tool_choice.name") } });
        throw RequestException.BadRequest("'tool_choice' must be none, auto, required or {\"type\": \"function\", \"name\": …}", "tool_choice");
    }

    /// <summary>text.format as a chat response_format (the json_schema's fields nested under "json_schema"), or null.</summary>
    public static JsonElement? ResponseFormat(JsonElement? text)
    {
        if (text is not { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } value) return null;
        if (value.ValueKind != JsonValueKind.Object) throw RequestException.BadRequest("'text' must be an object with a 'format'", "text");
        if (!value.TryGetProperty("format", out var format) || format.ValueKind == JsonValueKind.Null) return null;
        if (format.ValueKind != JsonValueKind.Object || !format.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            throw RequestException.BadRequest("'text.format' must be an object with a string 'type'", "text.format");
        if (!type.ValueEquals("json_schema")) return format;
        var schema = new JsonObject();
        foreach (var property in format.EnumerateObject())
            if (property.Name != "type") schema[property.Name] = JsonNode.Parse(property.Value.GetRawText());
        return JsonSerializer.SerializeToElement(new JsonObject { ["type"] = "json_schema", ["json_schema"] = schema });
    }

    private static string Role(JsonElement item, string at)
    {
        if (!item.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
            throw RequestException.BadRequest($"'{at}.role' is required (user, system, developer or assistant)", $"{at}.role");
        return JsonText.Read(role, $"{at}.role") switch
        {
            "user" => ChatRoles.User,
            "system" or "developer" => ChatRoles.System,
            "assistant" => ChatRoles.Assistant,
            var other => throw RequestException.BadRequest($"'{at}.role' is '{other}'; valid roles are user, system, developer and assistant", $"{at}.role"),
        };
    }

    private static string Content(JsonElement item, string at)
    {
        if (!item.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
            throw RequestException.BadRequest($"'{at}.content' is required", $"{at}.content");
        return content.ValueKind == JsonValueKind.String ? JsonText.Read(content, $"{at}.content") : PartsText(content, $"{at}.content");
    }

    // A list of text parts (input_text, output_text, text), joined with newlines as chat messages' parts are.
    private static string PartsText(JsonElement parts, string field)
    {
        if (parts.ValueKind != JsonValueKind.Array) throw RequestException.BadRequest($"'{field}' must be a string or a list of text parts", field);
        var text = new StringBuilder();
        int i = 0;
        foreach (var part in parts.EnumerateArray())
        {
            var at = $"{field}[{i++}]";
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                throw RequestException.BadRequest($"'{at}' must be an object with a 'type'", at);
            var typeName = JsonText.Read(type, $"{at}.type");
            if (typeName is not ("input_text" or "output_text" or "text"))
                throw RequestException.BadRequest($"'{at}.type' is '{typeName}'; this model reads text parts only (input_text, output_text)", $"{at}.type");
            if (!part.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String)
                throw RequestException.BadRequest($"'{at}.text' must be a string", $"{at}.text");
            if (i > 1) text.Append('\n');
            text.Append(JsonText.Read(t, $"{at}.text"));
        }
        return text.ToString();
    }

    // A reasoning item's text: its reasoning_text content, else its summary's summary_text parts.
    private static string ReasoningText(JsonElement item, string at)
    {
        var text = new StringBuilder();
        foreach (var (name, partType) in new[] { ("content", "reasoning_text"), ("summary", "summary_text") })
        {
            if (!item.TryGetProperty(name, out var parts) || parts.ValueKind == JsonValueKind.Null) continue;
            if (parts.ValueKind != JsonValueKind.Array) throw RequestException.BadRequest($"'{at}.{name}' must be a list", $"{at}.{name}");
            int i = 0;
            foreach (var part in parts.EnumerateArray())
            {
                var partAt = $"{at}.{name}[{i++}]";
                if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("text", out var t) || t.ValueKind != JsonValueKind.String
                    || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || !type.ValueEquals(partType))
                    throw RequestException.BadRequest($"'{partAt}' must be {{\"type\": \"{partType}\", \"text\": …}}", partAt);
                text.Append(JsonText.Read(t, $"{partAt}.text"));
            }
            if (text.Length > 0) break;
        }
        return text.ToString();
    }

    private static string String(JsonElement item, string name, string at)
    {
        if (!item.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
            throw RequestException.BadRequest($"'{at}.{name}' must be a string", $"{at}.{name}");
        return JsonText.Read(value, $"{at}.{name}");
    }
}
