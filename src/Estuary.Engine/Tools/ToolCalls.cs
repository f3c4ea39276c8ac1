// Function calling done model-independently, by constraining the reply (vLLM's way for named and "required" tool choices,
// TGI's idea of constraining the choice itself for "auto"): a named function's reply is JSON valid against its parameters;
// "required" is a JSON array of {"name", "parameters"} calls of the listed tools; "auto" is free text, or that array when the
// reply begins with "[" (or with "{": one call written as a bare object, the form Llama 3.x chat templates ask for). Shared by
// the server's OpenAI API and the in-process chat client.
// Invariant: every reply the constraint allows under Required, and every Auto reply that IsCallsReply, parses with
// TryParseCalls once complete into calls of the listed tools with arguments valid against their schemas.
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Estuary.Engine.Tools;

/// <summary>The constraint behind each tool mode, and the reading of the calls in a reply.</summary>
public static partial class ToolCalls
{
    /// <summary>
    /// The structured output a reply under <paramref name="mode"/> must follow (under None, only the answer format, if any). <paramref name="functionName"/> is the
    /// function of <see cref="ToolCallMode.Named"/>; <paramref name="parallel"/> false allows one call only.
    /// <paramref name="answerFormat"/> is the format asked for the final answer (OpenAI's response_format, MEAI's
    /// ResponseFormat), JSON only: under Auto the reply is then either the array of calls or an answer valid against it (no
    /// free text); a reply that must be calls (Named, Required) is not an answer, so the format does not apply to it.
    /// </summary>
    /// <exception cref="ArgumentException">no tools, a name missing from them or given twice, tools whose $defs conflict, or
    /// an answer format that is not JSON, or whose schema uses $ref (it cannot be embedded next to the calls).</exception>
    public static StructuredOutput? Constraint(IReadOnlyList<ToolDefinition> tools, ToolCallMode mode, string? functionName = null, bool parallel = true,
        StructuredOutput? answerFormat = null)
    {
        if (mode == ToolCallMode.None) return answerFormat;
        if (answerFormat is { Kind: not (StructuredOutputKind.JsonObject or StructuredOutputKind.JsonSchema) })
            throw new ArgumentException($"the answer format ({answerFormat}) cannot be combined with tools; only a JSON object or JSON Schema format can", nameof(answerFormat));
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
            case ToolCallMode.Auto when answerFormat is null:
                return StructuredOutput.JsonSchemaOrText(CallsSchema(tools, parallel, singleCallToo: true));
            case ToolCallMode.Auto:
                return StructuredOutput.JsonSchema(CallsOrAnswerSchema(CallsSchema(tools, parallel), answerFormat));
            default:
                throw new ArgumentOutOfRangeException(nameof(mode));
        }
    }

    /// <summary>
    /// Whether a reply under <paramref name="mode"/> and its <paramref name="constraint"/> (from <see cref="Constraint"/>) may
    /// also be one call written as a bare object, {"name": …, "parameters": {…}}: under Auto without an answer format, whose
    /// constraint is text or calls (with an answer format, "{" begins the answer).
    /// </summary>
    public static bool AllowsSingleCall(ToolCallMode mode, StructuredOutput? constraint) =>
        mode == ToolCallMode.Auto && constraint?.Kind == StructuredOutputKind.JsonSchemaOrText;

    /// <summary>
    /// The calls in a finished "required" or "auto" reply, [{"name": …, "parameters": {…}}, …] (after whitespace), or, with
    /// <paramref name="singleCall"/>, one such object alone, as (name, arguments JSON); null when the text is not that (an
    /// answer, or calls a stop string or the length cut).
    /// </summary>
    public static List<(string Name, string Arguments)>? TryParseCalls(string reply, bool singleCall = false)
    {
        if (!IsCallsReply(reply, singleCall)) return null;
        try
        {
            using var doc = JsonDocument.Parse(reply);
            var calls = new List<(string, string)>();
            var root = doc.RootElement;
            foreach (var call in root.ValueKind == JsonValueKind.Object ? [root] : root.EnumerateArray().ToArray())
                calls.Add((call.GetProperty("name").GetString()!, call.GetProperty("parameters").GetRawText()));
            return calls.Count > 0 ? calls : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether a reply is (the beginning of) calls: its first character other than JSON whitespace is "[", or "{" when a
    /// <paramref name="singleCall"/> object is allowed.
    /// </summary>
    public static bool IsCallsReply(string reply, bool singleCall = false)
    {
        int start = FirstNonWhitespace(reply);
        return start >= 0 && BeginsCalls(reply[start], singleCall);
    }

    /// <summary>Whether <paramref name="first"/>, a reply's first character other than JSON whitespace, begins calls.</summary>
    public static bool BeginsCalls(char first, bool singleCall) => first == '[' || singleCall && first == '{';

    /// <summary>Whether <paramref name="c"/> is JSON whitespace (what may lead an "auto" reply).</summary>
    public static bool IsJsonWhitespace(char c) => c is ' ' or '\t' or '\n' or '\r';

    /// <summary>The index of the first character that is not JSON whitespace, or -1.</summary>
    public static int FirstNonWhitespace(string text)
    {
        for (int i = 0; i < text.Length; i++)
            if (!IsJsonWhitespace(text[i])) return i;
        return -1;
    }

    /// <summary>A new call id in <paramref name="style"/> (OpenAI's by default).</summary>
    public static string NewCallId(ToolCallIdStyle style = ToolCallIdStyle.OpenAi)
    {
        if (style == ToolCallIdStyle.OpenAi) return "call_" + Guid.NewGuid().ToString("N")[..24];
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        return string.Create(9, 0, (chars, _) =>
        {
            for (int i = 0; i < chars.Length; i++) chars[i] = alphabet[System.Security.Cryptography.RandomNumberGenerator.GetInt32(alphabet.Length)];
        });
    }

    /// <summary>
    /// The id style a chat template needs: nine letters and digits when it checks that ids have length 9 (Mistral's raise
    /// "Tool call IDs should be alphanumeric strings with length 9!" otherwise), else OpenAI's.
    /// </summary>
    public static ToolCallIdStyle IdStyleFor(string? chatTemplateSource) =>
        chatTemplateSource is not null && NineCharacterIdCheck().IsMatch(chatTemplateSource) ? ToolCallIdStyle.NineAlphanumeric : ToolCallIdStyle.OpenAi;

    [System.Text.RegularExpressions.GeneratedRegex(@"\|\s*length\s*[!=]=\s*9\b")]
    private static partial System.Text.RegularExpressions.Regex NineCharacterIdCheck();

    // {"anyOf": [calls, answer]} with the calls' $defs kept at the top. The answer must be an object (what MEAI's typed
    // results and OpenAI's json_schema formats are), so that "[" begins calls and "{" an answer.
    private static string CallsOrAnswerSchema(string callsSchema, StructuredOutput answerFormat)
    {
        var calls = JsonNode.Parse(callsSchema)!.AsObject();
        JsonObject answer;
        if (answerFormat.Kind == StructuredOutputKind.JsonObject) answer = new JsonObject { ["type"] = "object" };
        else
        {
            answer = JsonNode.Parse(answerFormat.Text) as JsonObject
                ?? throw new ArgumentException("the answer format's schema must be a JSON object", nameof(answerFormat));
            if (answerFormat.Text.Contains("\"$ref\"", StringComparison.Ordinal))
                throw new ArgumentException("an answer schema that uses $ref cannot be combined with tools the model may call (tool_choice auto)", nameof(answerFormat));
            if (answer["type"] is not JsonValue type || type.GetValueKind() != JsonValueKind.String || type.GetValue<string>() != "object")
                throw new ArgumentException("an answer schema combined with tools the model may call (tool_choice auto) must have \"type\": \"object\"", nameof(answerFormat));
            answer = (JsonObject)answer.DeepClone();
            answer.Remove("$schema");
        }
        var root = new JsonObject();
        foreach (var key in new[] { "$defs", "definitions" })
        {
            if (calls[key] is not JsonNode defs) continue;
            calls.Remove(key);
            root[key] = defs;
        }
        root["anyOf"] = new JsonArray(calls, answer);
        return root.ToJsonString();
    }

    // {"type": "array", "minItems": 1, "items": {"anyOf": [{"type": "object", "properties": {"name": {"enum": [N]},
    // "parameters": P}, "required": ["name", "parameters"], "additionalProperties": false}, …]}} with every tool's $defs
    // moved to the top (its $refs point at the root), as vLLM builds it.
    // With singleCallToo: {"anyOf": [that array, {"anyOf": [the same call objects]}]}, the $defs still at the top.
    private static string CallsSchema(IReadOnlyList<ToolDefinition> tools, bool parallel, bool singleCallToo = false)
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
        var schema = new JsonObject { ["type"] = "array", ["minItems"] = 1, ["items"] = new JsonObject { ["anyOf"] = branches.DeepClone() } };
        if (!parallel) schema["maxItems"] = 1;
        if (singleCallToo) schema = new JsonObject { ["anyOf"] = new JsonArray(schema, new JsonObject { ["anyOf"] = branches }) };
        if (defs.Count > 0)
        {
            schema["$defs"] = defs;
            // Both spellings resolve to the same place, whichever the tools used.
            schema["definitions"] = defs.DeepClone();
        }
        return schema.ToJsonString();
    }
}
