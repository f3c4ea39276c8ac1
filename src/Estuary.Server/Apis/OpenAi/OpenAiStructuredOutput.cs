// Reads a request's structured-output fields into one StructuredOutput: OpenAI's response_format (json_object, json_schema)
// and vLLM's guided_json / guided_regex / guided_choice / guided_grammar (GBNF, as xgrammar reads it) and structured_outputs
// {json, regex, choice, grammar, json_object}. Invariant: at most one of them constrains a request (two are a 400 naming
// both); unsupported kinds (structural tags) are a 400.
using System.Text.Json;
using Estuary.Engine;
using Estuary.Server.Generation;
using Estuary.Server.Http;

namespace Estuary.Server.Apis.OpenAi;

internal static class OpenAiStructuredOutput
{
    /// <summary>The constraint the request asks for and the field it came from, or (null, null) for free text.</summary>
    public static (StructuredOutput? Spec, string? Field) Read(SamplingRequest r)
    {
        var found = new List<(StructuredOutput Spec, string Field)>();
        var (formatValue, formatField, schemaPath) = r.AnswerFormat;
        if (FromResponseFormat(formatValue, formatField, schemaPath) is { } format) found.Add((format, formatField));
        if (Given(r.GuidedJson)) found.Add((StructuredOutput.JsonSchema(SchemaText(r.GuidedJson!.Value, "guided_json")), "guided_json"));
        if (r.GuidedRegex is { } regex) found.Add((StructuredOutput.Regex(regex), "guided_regex"));
        if (r.GuidedChoice is { } choice) found.Add((StructuredOutput.Choice(Choices(choice, "guided_choice")), "guided_choice"));
        if (r.GuidedGrammar is { } grammar) found.Add((StructuredOutput.Grammar(grammar), "guided_grammar"));
        if (Given(r.StructuredOutputs)) found.AddRange(FromStructuredOutputs(r.StructuredOutputs!.Value).Select(s => (s, "structured_outputs")));
        if (found.Count > 1)
            throw RequestException.BadRequest($"only one structured-output constraint may be given (got {string.Join(", ", found.Select(f => f.Field))})", found[1].Field);
        return found.Count == 0 ? (null, null) : (found[0].Spec, found[0].Field);
    }

    private static bool Given(JsonElement? e) => e is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) };

    private static StructuredOutput? FromResponseFormat(JsonElement? value, string field, string schemaPath)
    {
        if (!Given(value)) return null;
        var format = value!.Value;
        if (format.ValueKind != JsonValueKind.Object || !format.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            throw RequestException.BadRequest($"'{field}' must be an object with a string 'type'", field);
        switch (type.GetString())
        {
            case "text":
                return null;
            case "json_object":
                return StructuredOutput.JsonObject();
            case "json_schema":
                if (!format.TryGetProperty("json_schema", out var wrapper) || wrapper.ValueKind != JsonValueKind.Object)
                    throw RequestException.BadRequest($"'{schemaPath}' must be an object with the 'schema'", field);
                if (!wrapper.TryGetProperty("schema", out var schema) || schema.ValueKind == JsonValueKind.Null)
                    throw RequestException.BadRequest($"'{schemaPath}.schema' is required", field);
                return StructuredOutput.JsonSchema(SchemaText(schema, $"{schemaPath}.schema"));
            default:
                throw RequestException.BadRequest(
                    $"'{field}' type '{type.GetString()}' is not supported; use text, json_object or json_schema", field);
        }
    }

    private static IEnumerable<StructuredOutput> FromStructuredOutputs(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw RequestException.BadRequest("'structured_outputs' must be an object", "structured_outputs");
        foreach (var field in value.EnumerateObject())
        {
            if (field.Value.ValueKind == JsonValueKind.Null) continue;
            switch (field.Name)
            {
                case "json":
                    yield return StructuredOutput.JsonSchema(SchemaText(field.Value, "structured_outputs.json"));
                    break;
                case "regex":
                    yield return StructuredOutput.Regex(Text(field.Value, "structured_outputs.regex", "a string"));
                    break;
                case "choice":
                    yield return StructuredOutput.Choice(Choices(field.Value, "structured_outputs.choice"));
                    break;
                case "json_object":
                    if (field.Value.ValueKind == JsonValueKind.True) yield return StructuredOutput.JsonObject();
                    else if (field.Value.ValueKind != JsonValueKind.False)
                        throw RequestException.BadRequest("'structured_outputs.json_object' must be a boolean", "structured_outputs");
                    break;
                case "grammar":
                    yield return StructuredOutput.Grammar(Text(field.Value, "structured_outputs.grammar", "a string (a GBNF grammar)"));
                    break;
                case "structural_tag":
                    throw RequestException.BadRequest("'structured_outputs.structural_tag' is not supported; use json, regex, choice or grammar", "structured_outputs");
                default:
                    break; // options such as disable_any_whitespace or the backend choice do not change what is valid
            }
        }
    }

    /// <summary>A structured_outputs member that must be <paramref name="what"/>, a string (a 400 on structured_outputs otherwise).</summary>
    private static string Text(JsonElement value, string field, string what) => value.ValueKind == JsonValueKind.String
        ? JsonText.Read(value, field)
        : throw RequestException.BadRequest($"'{field}' must be {what}", "structured_outputs");

    /// <summary>A schema given as a JSON object (or boolean), or as a string holding one.</summary>
    private static string SchemaText(JsonElement value, string field)
    {
        if (value.ValueKind is JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False) return value.GetRawText();
        if (value.ValueKind == JsonValueKind.String)
        {
            var text = JsonText.Read(value, field);
            try
            {
                using var doc = JsonDocument.Parse(text);
                if (doc.RootElement.ValueKind is JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False) return text;
            }
            catch (JsonException e)
            {
                throw RequestException.BadRequest($"'{field}' is not valid JSON: {JsonBody.Describe(e.Message)}", field);
            }
        }
        throw RequestException.BadRequest($"'{field}' must be a JSON schema (an object)", field);
    }

    private static List<string> Choices(JsonElement value, string field)
    {
        if (value.ValueKind != JsonValueKind.Array) throw RequestException.BadRequest($"'{field}' must be a list of strings", field);
        var list = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) throw RequestException.BadRequest($"'{field}' must be a list of strings", field);
            list.Add(JsonText.Read(item, $"{field}[{list.Count}]"));
        }
        if (list.Count == 0) throw RequestException.BadRequest($"'{field}' must not be empty", field);
        return list;
    }
}
