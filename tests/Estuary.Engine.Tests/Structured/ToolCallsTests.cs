// The constraint behind each tool mode: a named function's arguments, an array of calls, free text or calls ("auto"), and,
// with a JSON answer format under "auto", calls or an answer valid against it; what cannot be combined is refused by name.
using System.Text.Json.Nodes;
using Estuary.Engine.Structured;
using Estuary.Engine.Tools;

namespace Estuary.Engine.Tests.Structured;

public sealed class ToolCallsTests
{
    private static readonly ToolDefinition[] Tools =
    [
        new("add", JsonNode.Parse("""{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "additionalProperties": false}""")!.AsObject()),
        new("now", new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() }),
    ];

    private const string Pet = """{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "properties": {"name": {"type": "string"}, "friendly": {"type": "boolean"}}, "required": ["name", "friendly"], "additionalProperties": false}""";

    private static GrammarAutomaton Automaton(StructuredOutput? spec) => new(StructuredOutputCompiler.BuildGrammar(spec!));

    [Fact]
    public void EachModeConstrainsTheReplyAsDocumented()
    {
        var named = Automaton(ToolCalls.Constraint(Tools, ToolCallMode.Named, "add"));
        Assert.True(named.Accepts("""{"a": 3}"""));
        Assert.False(named.Accepts("""[{"name":"add","parameters":{"a":3}}]"""));

        var required = Automaton(ToolCalls.Constraint(Tools, ToolCallMode.Required, parallel: false));
        Assert.True(required.Accepts("""[{"name":"now","parameters":{}}]"""));
        Assert.False(required.Accepts("""[{"name":"now","parameters":{}},{"name":"now","parameters":{}}]""")); // one call only
        Assert.False(required.AcceptsPrefix("Hello"));

        var auto = Automaton(ToolCalls.Constraint(Tools, ToolCallMode.Auto));
        Assert.True(auto.Accepts("Hello"));
        Assert.True(auto.Accepts("""[{"name":"add","parameters":{"a":1}},{"name":"now","parameters":{}}]"""));
        // One call as a bare object (what Llama 3.x chat templates ask for) is a call too; any other "{" is not text.
        Assert.True(auto.Accepts("""{"name": "add", "parameters": {"a": 7}}"""));
        Assert.False(auto.AcceptsPrefix("""{"city": """));
        Assert.Equal([("add", """{"a": 7}""")], ToolCalls.TryParseCalls("""{"name": "add", "parameters": {"a": 7}}""", singleCall: true)!);
        Assert.Null(ToolCalls.TryParseCalls("""{"name": "add", "parameters": {"a": 7}}"""));
        Assert.True(ToolCalls.AllowsSingleCall(ToolCallMode.Auto, ToolCalls.Constraint(Tools, ToolCallMode.Auto)));
        Assert.False(ToolCalls.AllowsSingleCall(ToolCallMode.Auto, ToolCalls.Constraint(Tools, ToolCallMode.Auto, answerFormat: StructuredOutput.JsonObject())));
        Assert.False(ToolCalls.AllowsSingleCall(ToolCallMode.Required, ToolCalls.Constraint(Tools, ToolCallMode.Required)));

        // A JSON answer format: calls or an answer, never free text; the format does not apply to a reply that must be calls.
        var answerOrCalls = Automaton(ToolCalls.Constraint(Tools, ToolCallMode.Auto, answerFormat: StructuredOutput.JsonSchema(Pet)));
        Assert.True(answerOrCalls.Accepts("""{"name": "Rex", "friendly": true}"""));
        Assert.True(answerOrCalls.Accepts("""[{"name":"add","parameters":{"a":1}}]"""));
        Assert.False(answerOrCalls.AcceptsPrefix("Hello"));
        Assert.False(answerOrCalls.Accepts("""{"name": "Rex"}"""));
        Assert.False(answerOrCalls.Accepts("""{"name": "add", "parameters": {"a": 7}}""")); // with an answer format, "{" is the answer
        var anyObject = Automaton(ToolCalls.Constraint(Tools, ToolCallMode.Auto, answerFormat: StructuredOutput.JsonObject()));
        Assert.True(anyObject.Accepts("""{"anything": [1, 2]}"""));
        var (plain, withFormat) = (ToolCalls.Constraint(Tools, ToolCallMode.Required), ToolCalls.Constraint(Tools, ToolCallMode.Required, answerFormat: StructuredOutput.JsonSchema(Pet)));
        Assert.Equal((plain!.Kind, plain.Text), (withFormat!.Kind, withFormat.Text));
        // "none": the tools are shown, not called; only an answer format constrains the reply.
        Assert.Null(ToolCalls.Constraint(Tools, ToolCallMode.None));
        Assert.Equal(StructuredOutputKind.JsonSchema, ToolCalls.Constraint(Tools, ToolCallMode.None, answerFormat: StructuredOutput.JsonSchema(Pet))!.Kind);
    }

    [Fact]
    public void WhatCannotBeCombinedIsRefusedByName()
    {
        Assert.Contains("'sub'", Assert.Throws<ArgumentException>(() => ToolCalls.Constraint(Tools, ToolCallMode.Named, "sub")).Message);
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => ToolCalls.Constraint([Tools[0], Tools[0]], ToolCallMode.Required)).Message);
        Assert.Contains("at least one tool", Assert.Throws<ArgumentException>(() => ToolCalls.Constraint([], ToolCallMode.Auto)).Message);
        Assert.Contains("regex", Assert.Throws<ArgumentException>(() => ToolCalls.Constraint(Tools, ToolCallMode.Auto, answerFormat: StructuredOutput.Regex("a+"))).Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("$ref", Assert.Throws<ArgumentException>(() => ToolCalls.Constraint(Tools, ToolCallMode.Auto,
            answerFormat: StructuredOutput.JsonSchema("""{"type": "object", "properties": {"x": {"$ref": "#/$defs/X"}}, "$defs": {"X": {"type": "integer"}}}"""))).Message);
        Assert.Contains("\"type\": \"object\"", Assert.Throws<ArgumentException>(() => ToolCalls.Constraint(Tools, ToolCallMode.Auto,
            answerFormat: StructuredOutput.JsonSchema("""{"type": "array"}"""))).Message);
    }

    [Fact]
    public void CallIdsTakeTheShapeTheChatTemplateDemands()
    {
        // Mistral's templates check the ids they render back (as the Mistral NeMo and v0.3 templates write it).
        const string mistral = """{%- if not tool_call.id is defined or tool_call.id|length != 9 %}{{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}{%- endif %}""";
        Assert.Equal(ToolCallIdStyle.NineAlphanumeric, ToolCalls.IdStyleFor(mistral));
        Assert.Equal(ToolCallIdStyle.NineAlphanumeric, ToolCalls.IdStyleFor("{% if message.tool_call_id | length == 9 %}ok{% endif %}"));
        Assert.Equal(ToolCallIdStyle.OpenAi, ToolCalls.IdStyleFor("{% for m in messages %}{{ m.content | length }}{% endfor %}"));
        Assert.Equal(ToolCallIdStyle.OpenAi, ToolCalls.IdStyleFor("{% if x|length != 90 %}{% endif %}"));
        Assert.Equal(ToolCallIdStyle.OpenAi, ToolCalls.IdStyleFor(null));

        var ids = Enumerable.Range(0, 200).Select(_ => ToolCalls.NewCallId(ToolCallIdStyle.NineAlphanumeric)).ToList();
        Assert.All(ids, id => Assert.Matches("^[A-Za-z0-9]{9}$", id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Matches("^call_[0-9a-f]{24}$", ToolCalls.NewCallId());
    }
}
