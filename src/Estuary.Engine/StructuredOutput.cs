// What a request's output must look like (vLLM's structured outputs / OpenAI's response_format): any JSON object, JSON
// matching a schema, text fully matching a regular expression, a sentence of a GBNF grammar, or one of a list of strings. The engine compiles it to a
// grammar and lets the sampler pick only tokens that keep the text a prefix of a match; the request ends when it is complete.
using System.Text.Json;

namespace Estuary.Engine;

/// <summary>The kinds of structured output.</summary>
public enum StructuredOutputKind
{
    /// <summary>Any JSON object (OpenAI's <c>{"type": "json_object"}</c>).</summary>
    JsonObject,
    /// <summary>JSON valid against a JSON Schema (OpenAI's json_schema, vLLM's guided_json).</summary>
    JsonSchema,
    /// <summary>Text that fully matches a regular expression (vLLM's guided_regex).</summary>
    Regex,
    /// <summary>Exactly one of the given strings (vLLM's guided_choice).</summary>
    Choice,
    /// <summary>A sentence of a GBNF grammar's root rule (vLLM's guided_grammar with xgrammar, llama.cpp's grammar).</summary>
    Grammar,
    /// <summary>
    /// Free text, unless it begins (after whitespace) the way JSON valid against a schema begins; then that JSON and nothing
    /// after it. What function calling with tool_choice "auto" constrains a reply to: an answer, or an array of calls.
    /// </summary>
    JsonSchemaOrText,
}

/// <summary>A constraint on the whole generated text.</summary>
public sealed record StructuredOutput
{
    private StructuredOutput(StructuredOutputKind kind, string text, IReadOnlyList<string> choices)
    {
        Kind = kind;
        Text = text;
        Choices = choices;
        // Computed once: the engine looks a specification up several times per request (validation, admission).
        CacheKey = kind == StructuredOutputKind.Choice ? "choice:" + JsonSerializer.Serialize(choices) : $"{kind}:{text}";
    }

    public StructuredOutputKind Kind { get; }

    /// <summary>The schema's JSON text (JsonSchema, JsonSchemaOrText), the pattern (Regex) or the grammar's text (Grammar); "" otherwise.</summary>
    public string Text { get; }

    /// <summary>The allowed strings (Choice); empty otherwise.</summary>
    public IReadOnlyList<string> Choices { get; }

    /// <summary>Any JSON object.</summary>
    public static StructuredOutput JsonObject() => new(StructuredOutputKind.JsonObject, "", []);

    /// <summary>JSON valid against <paramref name="schemaJson"/> (the schema as JSON text).</summary>
    /// <exception cref="ArgumentException">the text is not JSON.</exception>
    public static StructuredOutput JsonSchema(string schemaJson)
    {
        try
        {
            using var _ = JsonDocument.Parse(schemaJson);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"the JSON schema is not valid JSON: {e.Message}", e);
        }
        return new(StructuredOutputKind.JsonSchema, schemaJson, []);
    }

    /// <summary>
    /// Free text, or JSON valid against <paramref name="schemaJson"/>: a text whose first character other than whitespace
    /// can begin such JSON must be such JSON (after that whitespace) and ends with it; any other text is free.
    /// </summary>
    /// <exception cref="ArgumentException">the text is not JSON.</exception>
    public static StructuredOutput JsonSchemaOrText(string schemaJson) =>
        new(StructuredOutputKind.JsonSchemaOrText, JsonSchema(schemaJson).Text, []);

    /// <summary>Text that fully matches <paramref name="pattern"/>.</summary>
    public static StructuredOutput Regex(string pattern) => new(StructuredOutputKind.Regex, pattern, []);

    /// <summary>A sentence of the GBNF grammar <paramref name="gbnf"/> (its "root" rule).</summary>
    public static StructuredOutput Grammar(string gbnf) => new(StructuredOutputKind.Grammar, gbnf, []);

    /// <summary>Exactly one of <paramref name="choices"/>.</summary>
    public static StructuredOutput Choice(IEnumerable<string> choices) => new(StructuredOutputKind.Choice, "", [.. choices]);

    /// <summary>Identifies the compiled grammar (equal keys, equal grammars).</summary>
    internal string CacheKey { get; }

    /// <summary>One line for logs and errors.</summary>
    public override string ToString() => Kind switch
    {
        StructuredOutputKind.JsonObject => "json_object",
        StructuredOutputKind.Choice => $"choice of {Choices.Count}",
        _ => $"{Kind}: {(Text.Length > 60 ? Text[..60] + "…" : Text)}",
    };
}
