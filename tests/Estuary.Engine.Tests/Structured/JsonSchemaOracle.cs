// An independent JSON Schema validator for the tests (JsonSchema.Net, draft 2020-12, formats enforced), with minLength
// and maxLength counting code points as the specification says (JsonSchema.Net counts grapheme clusters).
using System.Text.Json;
using Json.Schema;
using Json.Schema.Keywords;

namespace Estuary.Engine.Tests.Structured;

/// <summary>Validates JSON instances against a schema.</summary>
internal sealed class JsonSchemaOracle
{
    private static readonly Dialect CodePointLengths = Dialect.Draft202012
        .Without([MinLengthKeyword.Instance, MaxLengthKeyword.Instance], null, null, null)
        .With([new LengthKeyword("minLength", isMinimum: true), new LengthKeyword("maxLength", isMinimum: false)], null, null, null);

    private static readonly EvaluationOptions Options = new() { RequireFormatValidation = true, OutputFormat = OutputFormat.List };

    private readonly JsonSchema _schema;

    public JsonSchemaOracle(string schemaJson) => _schema = JsonSchema.FromText(schemaJson, new BuildOptions { Dialect = CodePointLengths });

    /// <summary>Null when <paramref name="instance"/> is valid, else the validator's errors.</summary>
    public string? Errors(JsonElement instance)
    {
        var result = _schema.Evaluate(instance, Options);
        if (result.IsValid) return null;
        var errors = new List<string>();
        Collect(result, errors);
        return string.Join("; ", errors);
    }

    private static void Collect(EvaluationResults result, List<string> errors)
    {
        if (result.Errors is { } own) errors.AddRange(own.Select(e => $"{result.InstanceLocation} {e.Key}: {e.Value}"));
        foreach (var detail in result.Details ?? []) Collect(detail, errors);
    }

    // minLength / maxLength over code points.
    private sealed class LengthKeyword(string name, bool isMinimum) : IKeywordHandler
    {
        public string Name => name;

        public object? ValidateKeywordValue(JsonElement value) => value.GetInt32();

        public void BuildSubschemas(KeywordData keyword, BuildContext context) { }

        public KeywordEvaluation Evaluate(KeywordData keyword, EvaluationContext context)
        {
            if (context.Instance.ValueKind != JsonValueKind.String) return KeywordEvaluation.Ignore;
            int length = context.Instance.GetString()!.EnumerateRunes().Count();
            int limit = (int)keyword.Value!;
            bool valid = isMinimum ? length >= limit : length <= limit;
            return new KeywordEvaluation { Keyword = name, IsValid = valid, Error = valid ? null : $"{name} {limit}, length {length}" };
        }
    }
}
