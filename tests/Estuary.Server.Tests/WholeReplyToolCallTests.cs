// The tool-call parsers whose calls are the whole reply (--tool-call-parser llama3_json and pythonic): Llama 3's
// {"name", "parameters"} objects and pythonic call lists read out of a finished reply, everything else left as content, the
// streamed content and calls equal to the whole reply's reading however it is split, and through the server an unconstrained
// "auto" reply (held to a regex here, so the tiny model writes it) coming back as calls, or as content, streamed and not.
using System.Net;
using System.Text;
using System.Text.Json;
using Estuary.Engine.Tools;
using Estuary.Server.Apis.OpenAi;

namespace Estuary.Server.Tests;

public sealed class Llama3JsonToolCallParsingTests
{
    [Fact]
    public void Call_objects_separated_by_semicolons_are_the_calls()
    {
        var parsed = Llama3JsonToolCalls.TryParse("\n<|python_tag|>{\"name\": \"add\", \"parameters\": {\"a\": 1, \"b\": [2]}}; " +
            "{\"type\": \"function\", \"name\": \"now\", \"arguments\": {}};{\"name\": \"echo\", \"parameters\": \"{\\\"x\\\": 1}\"};\n");
        Assert.NotNull(parsed);
        Assert.Equal("", parsed.Value.Content);
        Assert.Equal([("add", "{\"a\": 1, \"b\": [2]}"), ("now", "{}"), ("echo", "{\"x\": 1}")], parsed.Value.Calls);
        // Braces and the separator inside strings are text.
        Assert.Equal([("echo", "{\"t\": \"a } b { \\\" ; c\"}")],
            Llama3JsonToolCalls.TryParse("{\"name\": \"echo\", \"parameters\": {\"t\": \"a } b { \\\" ; c\"}}")!.Value.Calls);
        // "arguments" is read before "parameters", as vLLM reads them.
        Assert.Equal([("f", "{\"x\": 1}")], Llama3JsonToolCalls.TryParse("{\"name\": \"f\", \"arguments\": {\"x\": 1}, \"parameters\": {\"y\": 2}}")!.Value.Calls);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n")]
    [InlineData("The weather is fine.")]
    [InlineData("Sure: {\"name\": \"add\", \"parameters\": {}}")]                 // text before the call
    [InlineData("{\"name\": \"add\", \"parameters\": {}} and then text")]         // text after it
    [InlineData("{\"name\": \"add\", \"parameters\": {}} {\"name\": \"b\", \"parameters\": {}}")] // no separator
    [InlineData("{\"name\": \"Alice\", \"age\": 30}")]                            // an answer with a "name" field
    [InlineData("{\"name\": \"add\"}")]                                           // no parameters
    [InlineData("{\"name\": 5, \"parameters\": {}}")]                             // the name is not a string
    [InlineData("{\"name\": \"add\", \"parameters\": [1, 2]}")]                   // the arguments are not an object
    [InlineData("{\"name\": \"add\", \"parameters\": {\"a\": 1}")]                // cut short
    [InlineData("{}")]
    [InlineData(";")]
    [InlineData("<|python_tag|>brave_search.call(query=\"weather\")")]           // a built-in tool's Python, not JSON
    [InlineData("<|python_tag|>")]
    public void A_reply_that_is_not_only_calls_is_content(string text) => Assert.Null(Llama3JsonToolCalls.TryParse(text));

    [Theory]
    [InlineData("{\"name\": \"add\", \"parameters\": {\"a\": \"{;}\", \"b\": 2}}; {\"name\":\"now\",\"parameters\":{}}")]
    [InlineData("  <|python_tag|>{\"name\": \"add\", \"parameters\": {}}")]
    [InlineData("<|python_tag|>brave_search.call(query=\"x\")")]
    [InlineData("<|python_ta")]
    [InlineData("<|pyt and then prose")]
    [InlineData("{\"name\": \"add\", \"parameters\": {}} trailing")]
    [InlineData("Plain prose with {braces}.")]
    [InlineData("   ")]
    [InlineData("")]
    public void Streamed_pieces_add_up_to_the_whole_reply(string text) =>
        WholeReplyStreaming.AssertSplitInvariant(text, Llama3JsonToolCalls.TryParse(text),
            () => ModelFormatToolCalls.Streamer(ToolCallParser.Llama3Json, () => ToolCalls.NewCallId()));
}

public sealed class PythonicToolCallParsingTests
{
    [Fact]
    public void A_list_of_calls_with_keyword_arguments_is_the_calls()
    {
        var parsed = PythonicToolCalls.TryParse(" [get_weather(city='San Francisco', days=3, metric=True),\n now(), search(q=\"x\", filters={'lang': 'en', \"n\": [1, -2, None]},)]\n");
        Assert.NotNull(parsed);
        Assert.Equal("", parsed.Value.Content);
        Assert.Equal([
            ("get_weather", "{\"city\":\"San Francisco\",\"days\":3,\"metric\":true}"),
            ("now", "{}"),
            ("search", "{\"q\":\"x\",\"filters\":{\"lang\":\"en\",\"n\":[1,-2,null]}}"),
        ], parsed.Value.Calls);
        // Llama 4 writes the list between its python tags.
        Assert.Equal([("f", "{\"a\":1}")], PythonicToolCalls.TryParse("<|python_start|>[f(a=1)]<|python_end|>")!.Value.Calls);
    }

    [Theory]
    [InlineData("1", "1")]
    [InlineData("-17", "-17")]
    [InlineData("+4", "4")]
    [InlineData("1_000_000", "1000000")]
    [InlineData("0x1F", "31")]
    [InlineData("0o17", "15")]
    [InlineData("0b101", "5")]
    [InlineData("123456789012345678901234567890", "123456789012345678901234567890")]
    [InlineData("1.50", "1.50")]
    [InlineData("-0.25", "-0.25")]
    [InlineData("5.", "5.0")]
    [InlineData(".5", "0.5")]
    [InlineData("1e3", "1e3")]
    [InlineData("2.5E-3", "2.5E-3")]
    [InlineData("0", "0")]
    [InlineData("True", "true")]
    [InlineData("None", "null")]
    [InlineData("'it\\'s'", "\"it's\"")]
    [InlineData("\"tab\\tnew\\nline\\\\\"", "\"tab\\tnew\\nline\\\\\"")]
    [InlineData("'\\x41\\u00e9\\U0001F600\\101'", "\"Aé\\uD83D\\uDE00A\"")] // JSON's escape for a character past U+FFFF
    [InlineData("'é ü 中'", "\"é ü 中\"")]
    [InlineData("'a' \"b\"  'c'", "\"abc\"")]
    [InlineData("'''multi\nline ' \" '''", "\"multi\\nline ' \\\" \"")]
    [InlineData("''", "\"\"")]
    [InlineData("'\\d'", "\"\\\\d\"")]
    [InlineData("[]", "[]")]
    [InlineData("[1, [2, [3]],]", "[1,[2,[3]]]")]
    [InlineData("{}", "{}")]
    [InlineData("{'k': {'n': [True, False]}}", "{\"k\":{\"n\":[true,false]}}")]
    public void Argument_values_are_read_as_python_reads_them(string literal, string json)
    {
        var parsed = PythonicToolCalls.TryParse($"[f(v={literal})]");
        Assert.NotNull(parsed);
        Assert.Equal($"{{\"v\":{json}}}", Assert.Single(parsed.Value.Calls).Arguments);
    }

    [Theory]
    [InlineData("")]
    [InlineData("The answer is 4.")]
    [InlineData("[]")]                                    // no calls
    [InlineData("[1, 2]")]                                // not calls
    [InlineData("f(a=1)")]                                // not a list
    [InlineData("Calling: [f(a=1)]")]                     // text before
    [InlineData("[f(a=1)] done")]                         // text after
    [InlineData("[f(1)]")]                                // a positional argument
    [InlineData("[f(a=1, a=2)]")]                         // a repeated keyword
    [InlineData("[f(a=x)]")]                              // a name, not a literal
    [InlineData("[f(a=1+2)]")]                            // an expression
    [InlineData("[f(a=(1, 2))]")]                         // a tuple
    [InlineData("[f(a={1: 2})]")]                         // a key JSON cannot have
    [InlineData("[f(a={'x'})]")]                          // a set
    [InlineData("[f(a=f'{x}')]")]                         // an f-string
    [InlineData("[f(a=inf)]")]
    [InlineData("[f(a=0123)]")]                           // Python refuses leading zeros
    [InlineData("[f(a=1__0)]")]
    [InlineData("[f(a=0x1e+5)]")]                         // an addition
    [InlineData("[f(a=1j)]")]                             // a complex number
    [InlineData("[f(a=\"unterminated)]")]
    [InlineData("[f(a='line\nbreak')]")]                  // a newline in a one-line string
    [InlineData("[f(a='\\xZZ')]")]
    [InlineData("[f(a=1)")]                               // cut short
    [InlineData("[f(a=1) g(b=2)]")]                       // no comma
    [InlineData("[f(a=1),,]")]
    [InlineData("[mod.f(a=1)]")]                          // a dotted name
    public void A_reply_that_is_not_only_a_list_of_calls_is_content(string text) => Assert.Null(PythonicToolCalls.TryParse(text));

    [Theory]
    [InlineData("[get_weather(city='Paris, \"FR\"]', days=2), now()]")]
    [InlineData("<|python_start|>[f(a=1)]<|python_end|>")]
    [InlineData("<|python_sta")]
    [InlineData("[not a call]")]
    [InlineData("\n\nNo calls, just [brackets].")]
    [InlineData("")]
    public void Streamed_pieces_add_up_to_the_whole_reply(string text) =>
        WholeReplyStreaming.AssertSplitInvariant(text, PythonicToolCalls.TryParse(text),
            () => ModelFormatToolCalls.Streamer(ToolCallParser.Pythonic, () => ToolCalls.NewCallId()));
}

public sealed class WholeReplyToolCallStreamerTests
{
    [Fact]
    public void Content_goes_out_as_soon_as_the_reply_cannot_be_calls()
    {
        var streamer = ModelFormatToolCalls.Streamer(ToolCallParser.Llama3Json, () => ToolCalls.NewCallId());
        Assert.Equal("", streamer.Add(" <|py", last: false).Content);           // may still become the tag
        Assert.Equal(" <|pyx", streamer.Add("x", last: false).Content);          // cannot: all of it at once
        Assert.Equal(" more", streamer.Add(" more", last: false).Content);       // and the rest as it comes
        var pythonic = ModelFormatToolCalls.Streamer(ToolCallParser.Pythonic, () => ToolCalls.NewCallId());
        Assert.Equal("", pythonic.Add("\n[f(a=", last: false).Content);          // held until the reply ends
        var (content, calls) = pythonic.Add("1)]", last: true);
        Assert.Equal("", content);
        Assert.Equal("{\"a\":1}", Assert.Single(calls).Function.Arguments);
    }
}

// Shared by every model-format streamer's tests (Hermes, Mistral, Llama 3 JSON, pythonic).
internal static class WholeReplyStreaming
{
    // Streams text cut in many ways and checks that the content and calls sent add up to the whole reply's reading (and, when
    // given, checks every call sent).
    public static void AssertSplitInvariant(string text, (string Content, List<(string Name, string Arguments)> Calls)? expected,
        Func<IModelFormatToolCallStreamer> newStreamer, Action<ToolCallDelta>? checkCall = null)
    {
        var random = new Random(text.Length);
        for (int split = 0; split < 40; split++)
        {
            var streamer = newStreamer();
            var content = new StringBuilder();
            var calls = new List<(string, string)>();
            var ids = new HashSet<string>();
            int at = 0;
            do
            {
                int length = split < 8 ? split + 1 : random.Next(1, 12);
                var piece = text.Substring(at, Math.Min(length, text.Length - at));
                at += piece.Length;
                var (said, made) = streamer.Add(piece, last: at == text.Length);
                content.Append(said);
                foreach (var call in made)
                {
                    Assert.Equal(calls.Count, call.Index);                 // numbered in order
                    Assert.True(call.Id is { } id && ids.Add(id));         // each with an id of its own
                    checkCall?.Invoke(call);
                    calls.Add((call.Function.Name!, call.Function.Arguments!));
                }
            }
            while (at < text.Length);
            Assert.Equal(expected?.Content ?? text, content.ToString());
            Assert.Equal(expected?.Calls ?? [], calls);
            Assert.Equal(calls.Count, streamer.CallCount);
        }
    }
}

[Collection(ServerCollection.Name)]
public sealed class WholeReplyToolCallServingTests(ServerFixture fx)
{
    private const string Tools = "[{\"type\":\"function\",\"function\":{\"name\":\"add\",\"parameters\":{\"type\":\"object\"," +
        "\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"integer\"}},\"required\":[\"a\",\"b\"]}}}]";

    private static string Body(string reply, bool stream, bool parallel) =>
        $"{{\"messages\":[{{\"role\":\"user\",\"content\":\"1+2?\"}}],\"tools\":{Tools},\"max_tokens\":250,\"temperature\":0,\"parallel_tool_calls\":{(parallel ? "true" : "false")}," +
        $"\"stream\":{(stream ? "true" : "false")},\"guided_regex\":{JsonSerializer.Serialize(System.Text.RegularExpressions.Regex.Escape(reply).Replace("}", "\\}").Replace("]", "\\]"))}}}";

    [Theory]
    [InlineData(ToolCallParser.Llama3Json, "{\"name\": \"add\", \"parameters\": {\"a\": 1, \"b\": 2}}; {\"name\": \"add\", \"parameters\": {\"a\": 3, \"b\": 4}}",
        "{\"a\": 1, \"b\": 2}", "{\"a\": 3, \"b\": 4}")]
    [InlineData(ToolCallParser.Pythonic, "[add(a=1, b=2), add(a=3, b=4)]", "{\"a\":1,\"b\":2}", "{\"a\":3,\"b\":4}")]
    [InlineData(ToolCallParser.Llama3Json, "I cannot call {anything} here.", null, null)]
    [InlineData(ToolCallParser.Pythonic, "[1, 2] is a list.", null, null)]
    public async Task An_auto_reply_is_read_as_calls_or_as_content(ToolCallParser parser, string reply, string? first, string? second)
    {
        var client = await fx.StartAsync(fx.Stories, new ServerOptions { ServedModelName = "stories260k", ToolCallParser = parser });
        foreach (var parallel in new[] { true, false })
        {
            string[] expected = first is null ? [] : parallel ? [first, second!] : [first];
            using var response = await client.PostAsync("/v1/chat/completions", new StringContent(Body(reply, false, parallel), Encoding.UTF8, "application/json"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            using var doc = JsonDocument.Parse(body);
            var choice = doc.RootElement.GetProperty("choices")[0];
            var message = choice.GetProperty("message");
            Assert.Equal(first is null ? "stop" : "tool_calls", choice.GetProperty("finish_reason").GetString());
            Assert.Equal(first is null ? reply : null, message.GetProperty("content").GetString());
            var calls = message.TryGetProperty("tool_calls", out var t) && t.ValueKind == JsonValueKind.Array ? t.EnumerateArray().ToList() : [];
            Assert.Equal(expected, calls.Select(c => c.GetProperty("function").GetProperty("arguments").GetString()));
            Assert.All(calls, c => Assert.Equal("add", c.GetProperty("function").GetProperty("name").GetString()));

            var content = new StringBuilder();
            var streamed = new List<string>();
            string? finish = null;
            foreach (var data in await Sse.ReadAsync(client, "/v1/chat/completions", Body(reply, true, parallel)))
            {
                if (data == "[DONE]") break;
                using var chunk = JsonDocument.Parse(data);
                var c = chunk.RootElement.GetProperty("choices")[0];
                var delta = c.GetProperty("delta");
                if (delta.TryGetProperty("content", out var text) && text.ValueKind == JsonValueKind.String) content.Append(text.GetString());
                if (delta.TryGetProperty("tool_calls", out var deltas) && deltas.ValueKind == JsonValueKind.Array)
                    foreach (var d in deltas.EnumerateArray()) streamed.Add(d.GetProperty("function").GetProperty("arguments").GetString()!);
                if (c.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String) finish = f.GetString();
            }
            Assert.Equal(first is null ? reply : "", content.ToString());
            Assert.Equal(expected, streamed);
            Assert.Equal(first is null ? "stop" : "tool_calls", finish);
        }
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }
}
