// The Hermes tool-call parser (--tool-call-parser hermes): <tool_call> blocks read out of a finished reply as vLLM reads them,
// the streamed content and calls equal the whole reply's however it is split, and through the server an unconstrained "auto"
// reply (here held to a regex, which a Hermes auto reply may carry) comes back as content plus calls, streamed and not.
using System.Net;
using System.Text;
using System.Text.Json;
using Estuary.Engine.Tools;
using Estuary.Server.Apis.OpenAi;

namespace Estuary.Server.Tests;

public sealed class HermesToolCallParsingTests
{
    [Fact]
    public void Blocks_after_text_are_the_calls_and_the_text_before_them_the_content()
    {
        var parsed = HermesToolCalls.TryParse("Let me check.\n<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": [2]}}\n</tool_call>\n" +
            "ignored <tool_call>{\"arguments\": \"{\\\"x\\\": 1}\", \"name\": \"now\"}</tool_call>");
        Assert.NotNull(parsed);
        Assert.Equal("Let me check.\n", parsed.Value.Content);
        Assert.Equal([("add", "{\"a\": 1, \"b\": [2]}"), ("now", "{\"x\": 1}")], parsed.Value.Calls);
    }

    [Theory]
    [InlineData("No calls here, only <tool_call-like> words.")]
    [InlineData("<tool_call>{\"name\": \"add\", \"arguments\": {}</tool_call>")]           // not JSON
    [InlineData("<tool_call>[\"add\"]</tool_call>")]                                      // not an object
    [InlineData("<tool_call>{\"arguments\": {}}</tool_call>")]                            // no name
    [InlineData("<tool_call>{\"name\": \"a\"}</tool_call><tool_call>oops</tool_call>")] // one bad block spoils all
    public void A_reply_without_well_formed_calls_is_content(string text) => Assert.Null(HermesToolCalls.TryParse(text));

    [Fact]
    public void A_block_left_open_at_the_end_is_read_to_the_end_and_a_call_without_arguments_has_empty_ones()
    {
        var parsed = HermesToolCalls.TryParse("<tool_call>{\"name\": \"now\"}");
        Assert.Equal("", parsed!.Value.Content);
        Assert.Equal([("now", "{}")], parsed.Value.Calls);
    }

    [Theory]
    [InlineData("Sure.\n<tool_call>\n{\"name\": \"add\", \"arguments\": {\"a\": \"<tool_call>\", \"b\": 2}}\n</tool_call>\n<tool_call>{\"name\":\"now\",\"arguments\":{}}</tool_call>")]
    [InlineData("Text ending in a partial tag <tool_ca")]
    [InlineData("<<tool_call>{\"name\": \"x\", \"arguments\": {\"s\": \"</tool_cal\"}}</tool_call>")]
    [InlineData("plain text < with > brackets")]
    [InlineData("")]
    public void Streamed_pieces_add_up_to_the_whole_reply(string text) =>
        WholeReplyStreaming.AssertSplitInvariant(text, HermesToolCalls.TryParse(text), () => new HermesToolCallStreamer());
}

[Collection(ServerCollection.Name)]
public sealed class HermesToolCallServingTests(ServerFixture fx)
{
    private const string Tools = "[{\"type\":\"function\",\"function\":{\"name\":\"add\",\"description\":\"Adds\",\"parameters\":{\"type\":\"object\"," +
        "\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"integer\"}},\"required\":[\"a\",\"b\"]}}}]";

    // What a Hermes-trained model writes, held to a regex so the tiny model writes it.
    private const string Reply = "I will add.<tool_call>{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}</tool_call>";

    private static string Body(bool stream, string? regex) =>
        $"{{\"messages\":[{{\"role\":\"user\",\"content\":\"1+2?\"}}],\"tools\":{Tools},\"max_tokens\":200,\"temperature\":0,\"stream\":{(stream ? "true" : "false")}" +
        (regex is null ? "" : $",\"guided_regex\":{JsonSerializer.Serialize(regex)}") + "}";

    private static string Escape(string text) => System.Text.RegularExpressions.Regex.Escape(text).Replace("}", "\\}");

    [Fact]
    public async Task An_auto_reply_is_read_for_tool_call_blocks()
    {
        var client = await fx.StartAsync(fx.Stories, new ServerOptions { ServedModelName = "stories260k", ToolCallParser = ToolCallParser.Hermes });

        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(Body(false, Escape(Reply)), Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(body);
        var choice = doc.RootElement.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("I will add.", choice.GetProperty("message").GetProperty("content").GetString());
        var call = choice.GetProperty("message").GetProperty("tool_calls")[0].GetProperty("function");
        Assert.Equal("add", call.GetProperty("name").GetString());
        Assert.Equal("{\"a\": 1, \"b\": 2}", call.GetProperty("arguments").GetString());

        // Streamed: the same content, then the call whole.
        var content = new StringBuilder();
        var calls = new List<(string, string)>();
        string? finish = null;
        foreach (var data in await Sse.ReadAsync(client, "/v1/chat/completions", Body(true, Escape(Reply))))
        {
            if (data == "[DONE]") break;
            using var chunk = JsonDocument.Parse(data);
            var c = chunk.RootElement.GetProperty("choices")[0];
            var delta = c.GetProperty("delta");
            if (delta.TryGetProperty("content", out var text) && text.ValueKind == JsonValueKind.String) content.Append(text.GetString());
            if (delta.TryGetProperty("tool_calls", out var deltas) && deltas.ValueKind == JsonValueKind.Array)
                foreach (var d in deltas.EnumerateArray())
                    calls.Add((d.GetProperty("function").GetProperty("name").GetString()!, d.GetProperty("function").GetProperty("arguments").GetString()!));
            if (c.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String) finish = f.GetString();
        }
        Assert.Equal("I will add.", content.ToString());
        Assert.Equal([("add", "{\"a\": 1, \"b\": 2}")], calls);
        Assert.Equal("tool_calls", finish);

        // Without blocks the reply is the model's own text, unconstrained: the same as with tool_choice "none".
        using var plain = JsonDocument.Parse(await (await client.PostAsync("/v1/chat/completions",
            new StringContent(Body(false, null), Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync());
        using var none = JsonDocument.Parse(await (await client.PostAsync("/v1/chat/completions",
            new StringContent(Body(false, null).Replace("\"stream\":false", "\"stream\":false,\"tool_choice\":\"none\""), Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync());
        var plainChoice = plain.RootElement.GetProperty("choices")[0];
        Assert.Equal(none.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(),
            plainChoice.GetProperty("message").GetProperty("content").GetString());
        Assert.NotEqual("tool_calls", plainChoice.GetProperty("finish_reason").GetString());
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task Parallel_tool_calls_false_keeps_the_first_call_streamed_and_not()
    {
        var client = await fx.StartAsync(fx.Stories, new ServerOptions { ServedModelName = "stories260k", ToolCallParser = ToolCallParser.Hermes });
        const string twoCalls = Reply + "<tool_call>{\"name\": \"add\", \"arguments\": {\"a\": 3, \"b\": 4}}</tool_call>";
        string Request(bool stream, bool parallel) => Body(stream, Escape(twoCalls)).Replace("\"max_tokens\":200", "\"max_tokens\":250")
            .Replace("\"stream\":", $"\"parallel_tool_calls\":{(parallel ? "true" : "false")},\"stream\":");

        foreach (var parallel in new[] { true, false })
        {
            using var response = await client.PostAsync("/v1/chat/completions", new StringContent(Request(false, parallel), Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var message = doc.RootElement.GetProperty("choices")[0].GetProperty("message");
            var arguments = message.GetProperty("tool_calls").EnumerateArray()
                .Select(c => c.GetProperty("function").GetProperty("arguments").GetString()).ToList();
            Assert.Equal(parallel ? ["{\"a\": 1, \"b\": 2}", "{\"a\": 3, \"b\": 4}"] : ["{\"a\": 1, \"b\": 2}"], arguments);

            var streamed = new List<(int, string)>();
            foreach (var data in await Sse.ReadAsync(client, "/v1/chat/completions", Request(true, parallel)))
            {
                if (data == "[DONE]") break;
                using var chunk = JsonDocument.Parse(data);
                if (chunk.RootElement.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("tool_calls", out var deltas)
                    && deltas.ValueKind == JsonValueKind.Array)
                    foreach (var d in deltas.EnumerateArray())
                        streamed.Add((d.GetProperty("index").GetInt32(), d.GetProperty("function").GetProperty("arguments").GetString()!));
            }
            Assert.Equal(parallel ? [(0, "{\"a\": 1, \"b\": 2}"), (1, "{\"a\": 3, \"b\": 4}")] : [(0, "{\"a\": 1, \"b\": 2}")], streamed);
        }
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }
}
