// --json-schema, --regex, --choice, --grammar: the structured-output constraint of generate, chat, bench offline and bench
// structured (at most one).
using System.CommandLine;
using Estuary.Engine;

namespace Estuary.Cli.Hosting;

internal sealed class StructuredOutputOptions
{
    public Option<string?> JsonSchema { get; } = new("--json-schema") { Description = "Output JSON valid against this JSON Schema (a file, or the schema text; '{}' = any JSON)" };
    public Option<string?> Regex { get; } = new("--regex") { Description = "Output text that fully matches this regular expression" };
    public Option<string[]> Choice { get; } = new("--choice") { Description = "Output exactly one of these strings (repeatable)", AllowMultipleArgumentsPerToken = false };
    public Option<string?> Grammar { get; } = new("--grammar") { Description = "Output a sentence of this GBNF grammar's root rule (a file, or the grammar text)" };

    public void AddTo(Command command)
    {
        command.Options.Add(JsonSchema);
        command.Options.Add(Regex);
        command.Options.Add(Choice);
        command.Options.Add(Grammar);
    }

    /// <summary>The constraint given, or null; two at once or a schema that is not JSON is a usage error.</summary>
    public StructuredOutput? Read(ParseResult r)
    {
        var given = new List<StructuredOutput>();
        if (r.GetValue(JsonSchema) is { } schema)
        {
            var text = File.Exists(schema) ? File.ReadAllText(schema) : schema;
            try
            {
                given.Add(StructuredOutput.JsonSchema(text));
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"--json-schema: {e.Message} (give a file that exists or the schema's JSON text)");
            }
        }
        if (r.GetValue(Regex) is { } pattern) given.Add(StructuredOutput.Regex(pattern));
        if (r.GetValue(Choice) is { Length: > 0 } choices) given.Add(StructuredOutput.Choice(choices));
        if (r.GetValue(Grammar) is { } grammar) given.Add(StructuredOutput.Grammar(File.Exists(grammar) ? File.ReadAllText(grammar) : grammar));
        if (given.Count > 1) throw new UsageException("give at most one of --json-schema, --regex, --choice and --grammar");
        return given.Count == 0 ? null : given[0];
    }
}
