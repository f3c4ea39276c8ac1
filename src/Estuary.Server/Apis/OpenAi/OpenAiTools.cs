// OpenAI function calling on /v1/chat/completions: reads tools and tool_choice into a plan whose constraint comes from
// Estuary.Engine.Tools.ToolCalls (named function: its arguments; "required": an array of calls; "auto", the default when
// tools are given: free text, or that array when the reply begins with "["; "none": the tools reach the prompt, as in vLLM,
// but the reply is text).
// Invariant: a bad tools list or tool_choice is a 400 naming the field before anything is generated.
using System.Text.Json;
using System.Text.Json.Nodes;
using Estuary.Engine;
using Estuary.Engine.Tools;
using Estuary.Server.Generation;

namespace Estuary.Server.Apis.OpenAi;

/// <summary>A chat request's tools: the mode, the named function, the tools, whether calls may be parallel, and the tools for the template.</summary>
internal sealed record ToolPlan(ToolCallMode Mode, string? FunctionName, IReadOnlyList<ToolDefinition> Tools, bool Parallel, string ToolsJson)
{
    /// <summary>How an "auto" reply is read: constrained, or in the model's own format (Hermes, Mistral, Llama 3 JSON, pythonic).</summary>
    public ToolCallParser Parser { get; init; }

    /// <summary>How the calls' ids look (nine letters and digits for chat templates that demand it, e.g. Mistral's).</summary>
    public ToolCallIdStyle IdStyle { get; init; }

    /// <summary>A new id for one of the reply's calls.</summary>
    public string NewCallId() => ToolCalls.NewCallId(IdStyle);

    /// <summary>Whether this is an "auto" reply in the model's own format (a tool-call parser's): unconstrained, read after.</summary>
    public bool ModelFormatAuto => Parser != ToolCallParser.Constrained && Mode == ToolCallMode.Auto;

    /// <summary>
    /// The reply's constraint, with the request's answer format if any (see ToolCalls.Constraint); null under "none" without
    /// one. An "auto" reply read by a tool-call parser is the model's own: only the answer format, if any, constrains it (as in vLLM).
    /// </summary>
    /// <exception cref="ArgumentException">the answer format cannot be combined with the tools.</exception>
    public StructuredOutput? Constraint(StructuredOutput? answerFormat = null) =>
        ModelFormatAuto ? answerFormat : ToolCalls.Constraint(Tools, Mode, FunctionName, Parallel, answerFormat);
}

internal static class OpenAiTools
{
    private const string ChoiceShape = "'tool_choice' must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\": …}}";

    /// <summary>The plan for <paramref name="r"/>'s tools and tool_choice, or null when none are given.</summary>
    public static ToolPlan? Read(ChatCompletionRequest r, ToolCallParser parser = ToolCallParser.Constrained) =>
        Read(r.Tools, r.ToolChoice, r.ParallelToolCalls, parser);

    /// <summary>
    /// The plan for <paramref name="toolsValue"/> (chat completions' shape, {"type": "function", "function": {…}}) and
    /// <paramref name="toolChoice"/>, or null when no tools are given.
    /// </summary>
    public static ToolPlan? Read(JsonElement? toolsValue, JsonElement? toolChoice, bool? parallelToolCalls, ToolCallParser parser)
    {
        // An empty list is what SDKs send when no tools are used.
        bool hasTools = toolsValue is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } t && !(t.ValueKind == JsonValueKind.Array && t.GetArrayLength() == 0);
        var choice = toolChoice is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } c ? c : (JsonElement?)null;
        if (!hasTools)
        {
            if (choice is { ValueKind: JsonValueKind.String } s && s.ValueEquals("none")) return null;
            if (choice is not null) throw RequestException.BadRequest("'tool_choice' needs 'tools'", "tool_choice");
            return null;
        }
        var tools = ParseTools(toolsValue!.Value);
        var (mode, name) = ReadChoice(choice);
        if (mode == ToolCallMode.Named && tools.All(tool => tool.Name != name))
            throw RequestException.BadRequest($"tool_choice names '{name}', which is not among the tools ({string.Join(", ", tools.Select(tool => tool.Name))})", "tool_choice");
        // The constraint is built once, with the answer format, by OpenAiSampling (which names the field of what it refuses).
        return new ToolPlan(mode, name, tools, parallelToolCalls ?? true, toolsValue.Value.GetRawText()) { Parser = parser };
    }

    /// <summary>
    /// The tools of a request that only renders a prompt (vLLM's /tokenize): validated as a chat request's, and their JSON as the
    /// chat format receives it; null when none are given (absent, null or an empty list).
    /// </summary>
    public static string? ToolsJson(JsonElement? tools)
    {
        if (tools is not { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) } t || t.ValueKind == JsonValueKind.Array && t.GetArrayLength() == 0)
            return null;
        ParseTools(t);
        return t.GetRawText();
    }

    private static (ToolCallMode Mode, string? Name) ReadChoice(JsonElement? choice)
    {
        if (choice is null) return (ToolCallMode.Auto, null);
        var value = choice.Value;
        if (value.ValueKind == JsonValueKind.String)
        {
            if (value.ValueEquals("auto")) return (ToolCallMode.Auto, null);
            if (value.ValueEquals("required")) return (ToolCallMode.Required, null);
            if (value.ValueEquals("none")) return (ToolCallMode.None, null);
            throw RequestException.BadRequest(ChoiceShape, "tool_choice");
        }
        if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty("function", out var function)
            || function.ValueKind != JsonValueKind.Object || !function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            throw RequestException.BadRequest(ChoiceShape, "tool_choice");
        return (ToolCallMode.Named, name.GetString()!);
    }

    private static List<ToolDefinition> ParseTools(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0)
            throw RequestException.BadRequest("'tools' must be a non-empty list of {\"type\": \"function\", \"function\": {…}}", "tools");
        var tools = new List<ToolDefinition>();
        int i = 0;
        foreach (var item in value.EnumerateArray())
        {
            var at = $"tools[{i++}]";
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("type", out var type)
                || type.ValueKind != JsonValueKind.String || !type.ValueEquals("function"))
                throw RequestException.BadRequest($"'{at}.type' must be 'function'", "tools");
            if (!item.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
                throw RequestException.BadRequest($"'{at}.function' must be an object", "tools");
            if (!function.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String
                || nameElement.GetString() is not { } name || !ToolDefinition.IsValidName(name))
                throw RequestException.BadRequest($"'{at}.function.name' must be 1–{ToolDefinition.MaxNameLength} letters, digits, '_' or '-'", "tools");
            if (tools.Any(t => t.Name == name)) throw RequestException.BadRequest($"'{at}.function.name' '{name}' is given twice", "tools");
            if (function.TryGetProperty("description", out var description) && description.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                throw RequestException.BadRequest($"'{at}.function.description' must be a string", "tools");
            JsonObject parameters;
            if (!function.TryGetProperty("parameters", out var p) || p.ValueKind == JsonValueKind.Null)
                parameters = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
            else if (p.ValueKind == JsonValueKind.Object) parameters = JsonNode.Parse(p.GetRawText())!.AsObject();
            else throw RequestException.BadRequest($"'{at}.function.parameters' must be a JSON Schema object", "tools");
            tools.Add(new ToolDefinition(name, parameters));
        }
        return tools;
    }
}
