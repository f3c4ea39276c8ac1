// OpenAI function calling on /v1/chat/completions, done model-independently (vLLM's way for named and "required" choices,
// TGI's idea of constraining the choice itself for "auto"): tool_choice naming a function constrains the output to JSON valid
// against that function's parameters; "required" to a JSON array of {"name", "parameters"} calls of the listed tools; "auto"
// (the default when tools are given) lets the model answer in free text or, when its reply begins with "[", holds it to
// that same array; "none" ignores the tools.
// Invariant: a returned plan's constraint is a JSON schema whose every match becomes valid tool calls (TryToolCalls); under
// "auto", the reply is calls exactly when its first character other than whitespace is "[".
using System.Text.Json;
using System.Text.Json.Nodes;
using Estuary.Engine;
using Estuary.Server.Generation;

namespace Estuary.Server.Apis.OpenAi;

/// <summary>How a chat request uses its tools.</summary>
internal enum ToolMode
{
    /// <summary>A named function must be called (its arguments are the whole output).</summary>
    Named,
    /// <summary>One or more calls of the listed tools must be made (the output is a JSON array of them).</summary>
    Required,
    /// <summary>The model answers in text, or makes calls with a reply that is such an array.</summary>
    Auto,
}

/// <summary>A chat request's tools: the mode, the named function, the output constraint and the tools for the template.</summary>
internal sealed record ToolPlan(ToolMode Mode, string? FunctionName, StructuredOutput Constraint, string ToolsJson);

internal static class OpenAiTools
{
    private const int MaxNameLength = 64;

    /// <summary>The plan for <paramref name="r"/>'s tools and tool_choice, or null when the tools do not apply (none given, or "none").</summary>
    public static ToolPlan? Read(ChatCompletionRequest r)
    {
        // An empty list is what SDKs send when no tools are used.
        bool hasTools = r.Tools is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } t && !(t.ValueKind == JsonValueKind.Array && t.GetArrayLength() == 0);
        var choice = r.ToolChoice is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } c ? c : (JsonElement?)null;
        if (!hasTools)
        {
            if (choice is { ValueKind: JsonValueKind.String } s && s.ValueEquals("none")) return null;
            if (choice is not null) throw RequestException.BadRequest("'tool_choice' needs 'tools'", "tool_choice");
            return null;
        }
        var tools = ParseTools(r.Tools!.Value);
        var toolsJson = r.Tools.Value.GetRawText();
        if (choice is null || (choice.Value.ValueKind == JsonValueKind.String && choice.Value.ValueEquals("auto")))
            return new ToolPlan(ToolMode.Auto, null, StructuredOutput.JsonSchemaOrText(RequiredSchema(tools, r.ParallelToolCalls ?? true)), toolsJson);
        if (choice.Value.ValueKind == JsonValueKind.String)
        {
            if (choice.Value.ValueEquals("none")) return null;
            if (choice.Value.ValueEquals("required"))
                return new ToolPlan(ToolMode.Required, null, StructuredOutput.JsonSchema(RequiredSchema(tools, r.ParallelToolCalls ?? true)), toolsJson);
            throw RequestException.BadRequest($"'tool_choice' must be none, auto, required or {{\"type\": \"function\", \"function\": {{\"name\": …}}}}", "tool_choice");
        }
        if (choice.Value.ValueKind != JsonValueKind.Object || !choice.Value.TryGetProperty("function", out var function)
            || function.ValueKind != JsonValueKind.Object || !function.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String)
            throw RequestException.BadRequest("'tool_choice' must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\": …}}", "tool_choice");
        var name = nameElement.GetString()!;
        var tool = tools.FirstOrDefault(t => t.Name == name)
            ?? throw RequestException.BadRequest($"tool_choice names '{name}', which is not among the tools ({string.Join(", ", tools.Select(t => t.Name))})", "tool_choice");
        return new ToolPlan(ToolMode.Named, name, StructuredOutput.JsonSchema(tool.Parameters.ToJsonString()), toolsJson);
    }

    /// <summary>
    /// The calls in a finished "required" or "auto" output, [{"name": …, "parameters": {…}}, …] (after whitespace), as (name,
    /// arguments JSON); null when the text is not such an array (an answer, or an array a stop string or the length cut).
    /// </summary>
    public static List<(string Name, string Arguments)>? TryToolCalls(string output)
    {
        if (!IsCallsReply(output)) return null;
        try
        {
            using var doc = JsonDocument.Parse(output);
            var calls = new List<(string, string)>();
            foreach (var call in doc.RootElement.EnumerateArray())
                calls.Add((call.GetProperty("name").GetString()!, call.GetProperty("parameters").GetRawText()));
            return calls.Count > 0 ? calls : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Whether a reply under "auto" is calls: its first character other than JSON whitespace is "[".</summary>
    public static bool IsCallsReply(string text)
    {
        int start = FirstNonWhitespace(text);
        return start >= 0 && text[start] == '[';
    }

    /// <summary>The index of the first character that is not JSON whitespace (the grammar's leading whitespace), or -1.</summary>
    public static int FirstNonWhitespace(string text)
    {
        for (int i = 0; i < text.Length; i++)
            if (text[i] is not (' ' or '\t' or '\n' or '\r')) return i;
        return -1;
    }

    /// <summary>A new call id in OpenAI's style.</summary>
    public static string NewCallId() => "call_" + Guid.NewGuid().ToString("N")[..24];

    private sealed record Tool(string Name, JsonObject Parameters);

    private static List<Tool> ParseTools(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0)
            throw RequestException.BadRequest("'tools' must be a non-empty list of {\"type\": \"function\", \"function\": {…}}", "tools");
        var tools = new List<Tool>();
        int i = 0;
        foreach (var item in value.EnumerateArray())
        {
            var at = $"tools[{i++}]";
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("type", out var type) || !type.ValueEquals("function"))
                throw RequestException.BadRequest($"'{at}.type' must be 'function'", "tools");
            if (!item.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
                throw RequestException.BadRequest($"'{at}.function' must be an object", "tools");
            if (!function.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String
                || nameElement.GetString() is not { Length: > 0 and <= MaxNameLength } name || !name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-'))
                throw RequestException.BadRequest($"'{at}.function.name' must be 1–{MaxNameLength} letters, digits, '_' or '-'", "tools");
            if (tools.Any(t => t.Name == name)) throw RequestException.BadRequest($"'{at}.function.name' '{name}' is given twice", "tools");
            JsonObject parameters;
            if (!function.TryGetProperty("parameters", out var p) || p.ValueKind == JsonValueKind.Null)
                parameters = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
            else if (p.ValueKind == JsonValueKind.Object) parameters = JsonNode.Parse(p.GetRawText())!.AsObject();
            else throw RequestException.BadRequest($"'{at}.function.parameters' must be a JSON Schema object", "tools");
            tools.Add(new Tool(name, parameters));
        }
        return tools;
    }

    // {"type": "array", "minItems": 1, "items": {"anyOf": [{"type": "object", "properties": {"name": {"enum": [N]},
    // "parameters": P}, "required": ["name", "parameters"], "additionalProperties": false}, …]}} with every tool's $defs
    // moved to the top (its $refs point at the root), as vLLM builds it.
    private static string RequiredSchema(List<Tool> tools, bool parallel)
    {
        var defs = new JsonObject();
        var branches = new JsonArray();
        foreach (var tool in tools)
        {
            var parameters = (JsonObject)tool.Parameters.DeepClone();
            foreach (var key in new[] { "$defs", "definitions" })
            {
                if (parameters[key] is not JsonObject own) continue;
                foreach (var (defName, def) in own)
                {
                    if (defs.ContainsKey(defName) && !JsonNode.DeepEquals(defs[defName], def))
                        throw RequestException.BadRequest($"tools define '{defName}' differently in their $defs; tool_choice 'required' needs one meaning per name", "tools");
                    defs[defName] = def?.DeepClone();
                }
                parameters.Remove(key);
            }
            branches.Add(new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject { ["name"] = new JsonObject { ["enum"] = new JsonArray(tool.Name) }, ["parameters"] = parameters },
                ["required"] = new JsonArray("name", "parameters"),
                ["additionalProperties"] = false,
            });
        }
        var schema = new JsonObject { ["type"] = "array", ["minItems"] = 1, ["items"] = new JsonObject { ["anyOf"] = branches } };
        if (!parallel) schema["maxItems"] = 1;
        if (defs.Count > 0)
        {
            schema["$defs"] = defs;
            // Both spellings resolve to the same place, whichever the tools used.
            schema["definitions"] = defs.DeepClone();
        }
        return schema.ToJsonString();
    }
}
