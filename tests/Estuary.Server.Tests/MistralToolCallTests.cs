// The Mistral tool-call parser (--tool-call-parser mistral): [TOOL_CALLS] and a JSON array of calls read out of a finished
// reply as vLLM reads Mistral's Hugging Face format, the streamed content and calls equal the whole reply's however it is
// split, ids of nine letters and digits, and through the server an unconstrained "auto" reply (held to a regex here, so the
// tiny model writes it) comes back as content plus calls, streamed and not.
using System.Net;
using System.Text;
using System.Text.Json;
using Estuary.Engine.Tools;
using Estuary.Server.Apis.OpenAi;

namespace Estuary.Server.Tests;

public sealed class MistralToolCallParsingTests
{
    [Fact]
    public void The_array_after_the_tag_is_the_calls_and_the_text_before_it_the_content()
    {
        var parsed = MistralToolCalls.TryParse("Let me check. [TOOL_CALLS] [{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": [2]}}, " +
            "{\"name\": \"now\", \"arguments\": \"{\\\"x\\\": 1}\"}, {\"name\": \"ping\"}]");
        Assert.NotNull(parsed);
        Assert.Equal("Let me check. ", parsed.Value.Content);
        Assert.Equal([("add", "{\"a\": 1, \"b\": [2]}"), ("now", "{\"x\": 1}"), ("ping", "{}")], parsed.Value.Calls);
        Assert.Equal([("add", "{}")], MistralToolCalls.TryParse("[TOOL_CALLS]{\"name\": \"add\", \"arguments\": {}}")!.Value.Calls); // one bare object
    }

    [Theory]
    [InlineData("No calls here, only [TOOL_CALL words.")]
    [InlineData("[TOOL_CALLS] [{\"name\": \"add\", \"arguments\": {}]")]   // not JSON
    [InlineData("[TOOL_CALLS] [\"add\"]")]                                 // not an object
    [InlineData("[TOOL_CALLS] [{\"arguments\": {}}]")]                     // no name
    [InlineData("[TOOL_CALLS] []")]                                        // no calls
    [InlineData("[TOOL_CALLS] [{\"name\": \"a\"}] and then text")]         // text after the array
    public void A_reply_without_well_formed_calls_is_content(string text) => Assert.Null(MistralToolCalls.TryParse(text));

    [Theory]
    [InlineData("Sure. [TOOL_CALLS] [{\"name\": \"add\", \"arguments\": {\"a\": \"[TOOL_CALLS]\", \"b\": 2}}, {\"name\":\"now\",\"arguments\":{}}]")]
    [InlineData("Text ending in a partial tag [TOOL_CA")]
    [InlineData("[[TOOL_CALLS][{\"name\": \"x\"}]")]
    [InlineData("[TOOL_CALLS] not json")]
    [InlineData("plain [text] with brackets")]
    [InlineData("")]
    public void Streamed_pieces_add_up_to_the_whole_reply(string text) =>
        WholeReplyStreaming.AssertSplitInvariant(text, MistralToolCalls.TryParse(text), () => new MistralToolCallStreamer(),
            call => Assert.Matches("^[A-Za-z0-9]{9}$", call.Id));
}

[Collection(ServerCollection.Name)]
public sealed class MistralToolCallServingTests(ServerFixture fx)
{
    private const string Tools = "[{\"type\":\"function\",\"function\":{\"name\":\"add\",\"parameters\":{\"type\":\"object\"," +
        "\"properties\":{\"a\":{\"type\":\"integer\"},\"b\":{\"type\":\"integer\"}},\"required\":[\"a\",\"b\"]}}}]";

    private const string Reply = "I will add.[TOOL_CALLS] [{\"name\": \"add\", \"arguments\": {\"a\": 1, \"b\": 2}}, {\"name\": \"add\", \"arguments\": {\"a\": 3, \"b\": 4}}]";

    private static string Body(bool stream, bool parallel) =>
        $"{{\"messages\":[{{\"role\":\"user\",\"content\":\"1+2?\"}}],\"tools\":{Tools},\"max_tokens\":250,\"temperature\":0,\"parallel_tool_calls\":{(parallel ? "true" : "false")}," +
        $"\"stream\":{(stream ? "true" : "false")},\"guided_regex\":{JsonSerializer.Serialize(System.Text.RegularExpressions.Regex.Escape(Reply).Replace("}", "\\}").Replace("]", "\\]"))}}}";

    [Fact]
    public async Task An_auto_reply_is_read_for_the_tool_calls_array()
    {
        var client = await fx.StartAsync(fx.Stories, new ServerOptions { ServedModelName = "stories260k", ToolCallParser = ToolCallParser.Mistral });
        foreach (var parallel in new[] { true, false })
        {
            string[] expected = parallel ? ["{\"a\": 1, \"b\": 2}", "{\"a\": 3, \"b\": 4}"] : ["{\"a\": 1, \"b\": 2}"];
            using var response = await client.PostAsync("/v1/chat/completions", new StringContent(Body(false, parallel), Encoding.UTF8, "application/json"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            using var doc = JsonDocument.Parse(body);
            var choice = doc.RootElement.GetProperty("choices")[0];
            Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
            Assert.Equal("I will add.", choice.GetProperty("message").GetProperty("content").GetString());
            var calls = choice.GetProperty("message").GetProperty("tool_calls").EnumerateArray().ToList();
            Assert.Equal(expected, calls.Select(c => c.GetProperty("function").GetProperty("arguments").GetString()));
            Assert.All(calls, c => Assert.Matches("^[A-Za-z0-9]{9}$", c.GetProperty("id").GetString()));

            var content = new StringBuilder();
            var streamed = new List<string>();
            string? finish = null;
            foreach (var data in await Sse.ReadAsync(client, "/v1/chat/completions", Body(true, parallel)))
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
            Assert.Equal("I will add.", content.ToString());
            Assert.Equal(expected, streamed);
            Assert.Equal("tool_calls", finish);
        }
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }
}
