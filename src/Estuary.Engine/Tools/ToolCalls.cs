// Function calling done model-independently, by constraining the reply (vLLM's way for named and "required" tool choices,
// TGI's idea of constraining the choice itself for "auto"): a named function's reply is JSON valid against its parameters;
// "required" is a JSON array of {"name", "parameters"} calls of the listed tools; "auto" is free text, or that array when the
// reply begins with "[". Shared by the server's OpenAI API and the in-process chat client.
// Invariant: every reply the constraint allows under Required, and every Auto reply that IsCallsReply, parses with
// TryParseCalls once complete into calls of the listed tools with arguments valid against their schemas.
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Estuary.Engine.Tools;

/// <summary>The constraint behind each tool mode, and the reading of the calls in a reply.</summary>
public static class ToolCalls
{
    /// <summary>
    /// The structured output a reply under <paramref name="mode"/> must follow. <paramref name="functionName"/> is the
    /// function of <see cref="ToolCallMode.Named"/>; <paramref name="parallel"/> false allows one call only.
    /// </summary>
    /// <exception cref="ArgumentException">no tools, a name missing from them or given twice, or tools whose $defs conflict.</exception>
    public static StructuredOutput Constraint(IReadOnlyList<ToolDefinition> tools, ToolCallMode mode, string? functionName = null, bool parallel = true)
    {
        if (tools.Count == 0) throw new ArgumentException("function calling needs at least one tool", nameof(tools));
        foreach (var group in tools.GroupBy(t => t.Name))
            if (group.Count() > 1) throw new ArgumentException($"the tool name '{group.Key}' is given twice", nameof(tools));
        switch (mode)
        {
            case ToolCallMode.Named:
                var tool = tools.FirstOrDefault(t => t.Name == functionName)
                    ?? throw new ArgumentException($"the function '{functionName}' is not among the tools ({string.Join(", ", tools.Select(t => t.Name))})", nameof(functionName));
                return StructuredOutput.JsonSchema(tool.Parameters.ToJsonString());
            case ToolCallMode.Required:
                return StructuredOutput.JsonSchema(CallsSchema(tools, parallel));
            case ToolCallMode.Auto:
                return StructuredOutput.JsonSchemaOrText(CallsSchema(tools, parallel));
            default:
                throw new ArgumentOutOfRangeException(nameof(mode));
        }
    }

    /// <summary>
    /// The calls in a finished "required" or "auto" reply, [{"name": …, "parameters": {…}}, …] (after whitespace), as (name,
    /// arguments JSON); null when the text is not such an array (an answer, or an array a stop string or the length cut).
    /// </summary>
    public static List<(string Name, string Arguments)>? TryParseCalls(string reply)
    {
        if (!IsCallsReply(reply)) return null;
        try
        {
            using var doc = JsonDocument.Parse(reply);
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

    /// <summary>Whether a reply is (the beginning of) an array of calls: its first character other than JSON whitespace is "[".</summary>
    public static bool IsCallsReply(string reply)
    {
        int start = FirstNonWhitespace(reply);
        return start >= 0 && reply[start] == '[';
    }

    /// <summary>The index of the first character that is not JSON whitespace (what may lead an "auto" reply), or -1.</summary>
    public static int FirstNonWhitespace(string text)
    {
        for (int i = 0; i < text.Length; i++)
            if (text[i] is not (' ' or '\t' or '\n' or '\r')) return i;
        return -1;
    }

    /// <summary>A new call id in OpenAI's style.</summary>
    public static string NewCallId() => "call_" + Guid.NewGuid().ToString("N")[..24];

    // {"type": "array", "minItems": 1, "items": {"anyOf": [{"type": "object", "properties": {"name": {"enum": [N]},
    // "parameters": P}, "required": ["name", "parameters"], "additionalProperties": false}, …]}} with every tool's $defs
    // moved to the top (its $refs point at the root), as vLLM builds it.
    private static string CallsSchema(IReadOnlyList<ToolDefinition> tools, bool parallel)
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
                        throw new ArgumentException($"tools define '{defName}' differently in their $defs; an array of calls needs one meaning per name", nameof(tools));
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
