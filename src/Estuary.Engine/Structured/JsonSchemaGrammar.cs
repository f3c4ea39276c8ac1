// Entry points for JSON structured output: a JSON Schema (OpenAI json_schema, vLLM guided_json) or any JSON object
// (OpenAI json_object) as a grammar over UTF-8 bytes. Invariant: every sentence is one JSON value with no whitespace before
// or after it, and (for a schema) valid against the schema; anything the compiler cannot enforce exactly is refused with
// a GrammarException. What is supported and refused is listed on JsonSchemaCompiler.
using System.Text.Json;

namespace Estuary.Engine.Structured;

/// <summary>JSON structured-output grammars.</summary>
internal static class JsonSchemaGrammar
{
    /// <summary>The grammar of the JSON texts valid against <paramref name="schema"/>.</summary>
    /// <exception cref="GrammarException">the schema is invalid or uses something that cannot be enforced.</exception>
    public static Grammar Build(JsonElement schema) => new JsonSchemaCompiler(schema).Build();

    /// <summary>The grammar of any JSON object (OpenAI's json_object mode).</summary>
    public static Grammar AnyObject()
    {
        var json = new JsonGrammarParts(new GrammarBuilder());
        return json.Builder.Build(json.AnyObject);
    }
}
