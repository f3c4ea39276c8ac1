// A conversation with tools, written as plain turns for chat formats that have no tool turns (the built-in Baichuan2 and
// Llama 2 formats), the way TGI prompts any model with tools: the functions and how to call them are stated in the system
// message, each assistant call is written as the JSON array of calls the model replies with (the array function calling
// constrains replies to), and the results of a round of calls come back as one user turn.
// Invariant: a conversation with neither tools nor tool turns comes back unchanged; the result has no tool turns.
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Estuary.Tokenization;

/// <summary>Writes tools and tool turns as system, user and assistant text.</summary>
public static class ToolConversation
{
    /// <summary>What the system message says about calling functions, before the list of them.</summary>
    public const string Instructions =
        "To call functions, reply with only a JSON array [{\"name\": …, \"parameters\": {…}}]; results come in the next message.";

    /// <summary>
    /// The prompt of a conversation with tools in any chat format: a template renders the tools and tool turns itself (and
    /// takes <paramref name="addGenerationPrompt"/> and <paramref name="continueFinalMessage"/>); a built-in format gets them
    /// written as text (<see cref="AsPlainTurns"/>, with <paramref name="toolPrompt"/>) and always opens the assistant's turn.
    /// </summary>
    /// <exception cref="ArgumentException">bad messages or tools (the format's own checks, or <see cref="AsPlainTurns"/>'s).</exception>
    public static int[] BuildPrompt(IChatFormat format, IReadOnlyList<ChatMessage> messages, int maxNewTokens, string? toolsJson,
        string? toolPrompt = null, bool addGenerationPrompt = true, bool continueFinalMessage = false, string? templateKwargsJson = null) =>
        format is TemplateChatFormat template
            ? template.BuildPrompt(messages, addGenerationPrompt, continueFinalMessage, toolsJson, templateKwargsJson)
            : format.BuildPrompt(AsPlainTurns(messages, toolsJson, toolPrompt), maxNewTokens);

    /// <summary>
    /// <paramref name="messages"/> with the functions of <paramref name="toolsJson"/> (OpenAI's tools list, or null when the
    /// request uses none) described in the system message after <paramref name="instructions"/> (TGI's tool_prompt;
    /// <see cref="Instructions"/> when null), and tool calls and results written as text.
    /// </summary>
    /// <exception cref="ArgumentException">the tools are not OpenAI's list of functions.</exception>
    public static IReadOnlyList<ChatMessage> AsPlainTurns(IReadOnlyList<ChatMessage> messages, string? toolsJson, string? instructions = null)
    {
        bool hasTurns = messages.Any(m => m is not null && (m.Role == ChatRoles.Tool || m.ToolCalls is { Count: > 0 }));
        if (toolsJson is null && !hasTurns) return messages;
        var turns = new List<ChatMessage>(messages.Count + 1);
        var names = new Dictionary<string, string>(StringComparer.Ordinal); // call id → function name
        if (toolsJson is not null)
        {
            var system = messages.Count > 0 && messages[0]?.Role == ChatRoles.System ? messages[0].Content + "\n\n" : "";
            turns.Add(new ChatMessage(ChatRoles.System, system + (instructions ?? Instructions) + "\n" + Describe(toolsJson)));
        }
        // A user turn right after another (results, then the user's next words) joins it, so user and assistant still alternate.
        // The run's texts are joined once, when it ends: appending to the turn each time copied the run so far, quadratic in a
        // run of many short messages (40,000 took seconds).
        var userRun = new List<string>();
        foreach (var m in messages)
        {
            if (m is null) return messages; // the format's own validation names it
            if (m.Role == ChatRoles.System && toolsJson is not null) continue; // merged above
            if (m.ToolCalls is { Count: > 0 } calls)
            {
                EndUserRun(turns, userRun);
                foreach (var call in calls) names[call.Id] = call.Name;
                var text = m.Content.Length > 0 ? m.Content + "\n" : "";
                turns.Add(new ChatMessage(m.Role, text + CallsText(calls)));
            }
            else if (m.Role == ChatRoles.Tool)
            {
                var name = m.ToolCallId is { } id && names.TryGetValue(id, out var n) ? n : "a function";
                userRun.Add($"Result of {name}{(m.ToolCallId is { } callId ? $" ({callId})" : "")}: {m.Content}");
            }
            else if (m.Role == ChatRoles.User) userRun.Add(m.Content);
            else
            {
                EndUserRun(turns, userRun);
                turns.Add(m);
            }
        }
        EndUserRun(turns, userRun);
        return turns;
    }

    private static void EndUserRun(List<ChatMessage> turns, List<string> userRun)
    {
        if (userRun.Count == 0) return;
        turns.Add(new ChatMessage(ChatRoles.User, string.Join("\n", userRun)));
        userRun.Clear();
    }

    // [{"name": N, "parameters": ARGS}, …]: the arguments parsed back from their JSON text, as the model would write them.
    private static string CallsText(IReadOnlyList<ChatToolCall> calls)
    {
        var array = new JsonArray();
        foreach (var call in calls)
        {
            JsonNode? arguments;
            try
            {
                arguments = JsonNode.Parse(call.Arguments);
            }
            catch (JsonException)
            {
                arguments = JsonValue.Create(call.Arguments); // not JSON: kept as the text it is
            }
            array.Add(new JsonObject { ["name"] = call.Name, ["parameters"] = arguments });
        }
        return array.ToJsonString();
    }

    // One line per function, a signature short enough for small contexts: "- add(a: integer, unit?: "c"|"f"): Adds numbers".
    private static string Describe(string toolsJson)
    {
        var text = new StringBuilder();
        JsonNode? tools;
        try
        {
            tools = JsonNode.Parse(toolsJson);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"the tools are not JSON: {e.Message}", nameof(toolsJson));
        }
        if (tools is not JsonArray list) throw new ArgumentException("the tools must be a JSON list", nameof(toolsJson));
        foreach (var tool in list)
        {
            var function = (tool as JsonObject)?["function"] as JsonObject ?? throw new ArgumentException("each tool must be {\"type\": \"function\", \"function\": {…}}", nameof(toolsJson));
            if (function["name"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var name))
                throw new ArgumentException("each function needs a name", nameof(toolsJson));
            text.Append("- ").Append(name).Append('(').Append(Signature(function["parameters"] as JsonObject)).Append(')');
            if (function["description"] is JsonValue d && d.TryGetValue<string>(out var description) && description.Length > 0) text.Append(": ").Append(description);
            text.Append('\n');
        }
        return text.ToString().TrimEnd('\n');
    }

    // "a: integer, b?: string": each property with its type (or its enum values), "?" after the optional ones.
    private static string Signature(JsonObject? parameters)
    {
        if (parameters?["properties"] is not JsonObject properties) return "";
        var required = parameters["required"] is JsonArray r ? r.Select(n => n?.ToString()).ToHashSet() : [];
        return string.Join(", ", properties.Select(p => $"{p.Key}{(required.Contains(p.Key) ? "" : "?")}: {TypeOf(p.Value as JsonObject)}"));
    }

    private static string TypeOf(JsonObject? schema) => schema switch
    {
        { } s when s["enum"] is JsonArray values => string.Join("|", values.Select(v => v?.ToJsonString() ?? "null")),
        { } s when s["type"] is JsonValue t => t.ToString(),
        { } s when s["type"] is JsonArray ts => string.Join("|", ts.Select(t => t?.ToString())),
        _ => "any",
    };
}
