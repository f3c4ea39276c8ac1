// StructuredOutputKind.JsonSchemaOrText (tool_choice "auto"): free text, unless its first character other than whitespace
// can begin JSON of the schema; then it is that JSON, valid against the schema, and nothing after it.
using System.Text;
using System.Text.Json;
using Estuary.Engine.Structured;

namespace Estuary.Engine.Tests.Structured;

public sealed class JsonOrTextGrammarTests
{
    private const string CallsSchema = """
        {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {"name": {"enum": ["add"]},
         "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], "additionalProperties": false}},
         "required": ["name", "parameters"], "additionalProperties": false}}
        """;

    private static GrammarAutomaton Automaton(string schema) =>
        new(StructuredOutputCompiler.BuildGrammar(StructuredOutput.JsonSchemaOrText(schema)));

    [Theory]
    [InlineData("")]
    [InlineData("  \n ")]
    [InlineData("Hello there.")]
    [InlineData(" \tThe answer is [1, 2].")]
    [InlineData("{not json at all")]
    [InlineData("]")]
    [InlineData("日本語 and ünïcödé 🙂")]
    [InlineData("""[{"name":"add","parameters":{"a":1}}]""")]
    [InlineData("""  [{"name": "add", "parameters": {"a": -20}}, {"name":"add","parameters":{"a":3}}]""")]
    public void AcceptsTextAndValidCalls(string text) => Assert.True(Automaton(CallsSchema).Accepts(text), text);

    [Theory]
    [InlineData("""[{"name":"sub","parameters":{"a":1}}]""")]        // an unknown tool
    [InlineData("""[{"name":"add","parameters":{"a":"1"}}]""")]      // arguments against the schema
    [InlineData("""[{"name":"add","parameters":{"a":1}}] and more""")] // text after the calls
    [InlineData("[1]")]
    [InlineData("[]")]                                                 // minItems
    [InlineData(" [ hello")]
    public void RefusesWhatBeginsAsJsonButIsNotValid(string text) => Assert.False(Automaton(CallsSchema).AcceptsPrefix(text) && Automaton(CallsSchema).Accepts(text), text);

    [Fact]
    public void TheFirstCharacterDecidesWhichBranchAReplyIsIn()
    {
        // An object schema: "{" begins JSON; "[" now begins free text.
        var automaton = Automaton("""{"type": "object", "properties": {"x": {"type": "boolean"}}, "required": ["x"]}""");
        Assert.True(automaton.Accepts("""{"x": true}"""));
        Assert.False(automaton.AcceptsPrefix("{ free text"));
        Assert.True(automaton.Accepts("[ free text"));
        // A string schema: a reply that opens with a quote is a JSON string and ends with it.
        var strings = Automaton("""{"type": "string", "maxLength": 3}""");
        Assert.True(strings.Accepts("\"abc\""));
        Assert.False(strings.AcceptsPrefix("\"abcd"));
        Assert.False(strings.AcceptsPrefix("\"abc\" said"));
        Assert.True(strings.Accepts("abc\" said"));
    }

    [Fact]
    public void SampledRepliesAreTextOrValidCalls()
    {
        var automaton = Automaton(CallsSchema);
        var random = new Random(5);
        int calls = 0, texts = 0;
        for (int attempt = 0; attempt < 2000 && calls + texts < 400; attempt++)
        {
            // Uniform bytes would almost never pick "[" first: half the replies are begun with whitespace and "[".
            var text = GrammarSampler.Sample(automaton, random, maxBytes: 2000, prefix: attempt % 2 == 0 ? " \n[" : "");
            if (text is null) continue;
            var trimmed = text.TrimStart(' ', '\t', '\n', '\r');
            if (!trimmed.StartsWith('['))
            {
                texts++;
                continue;
            }
            calls++;
            using var doc = JsonDocument.Parse(text);
            Assert.All(doc.RootElement.EnumerateArray(), call =>
            {
                Assert.Equal("add", call.GetProperty("name").GetString());
                var a = call.GetProperty("parameters").GetProperty("a");
                Assert.True(a.ValueKind == JsonValueKind.Number && System.Numerics.BigInteger.TryParse(a.GetRawText(), out _), a.GetRawText());
            });
        }
        Assert.True(calls > 100 && texts > 100, $"calls {calls}, texts {texts}");
    }

    [Fact]
    public void AFreeTextBranchAllowsEveryTokenOfValidText()
    {
        // Free text is unconstrained beyond being UTF-8: any byte string that is valid UTF-8 and does not begin with "[" passes.
        var automaton = Automaton(CallsSchema);
        var random = new Random(9);
        for (int i = 0; i < 300; i++)
        {
            var chars = new StringBuilder("x");
            for (int k = random.Next(30); k > 0; k--) chars.Append(char.ConvertFromUtf32(random.Next(3) == 0 ? random.Next(0x20, 0x2FFF) : random.Next(0, 0x80)));
            Assert.True(automaton.Accepts(chars.ToString()), chars.ToString());
        }
    }
}
