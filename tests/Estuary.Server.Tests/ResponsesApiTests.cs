// OpenAI's Responses API (/v1/responses) against the chat completions it is built on: the same reply for the same
// conversation, streamed as numbered named events that add up to the whole response; function tools, function-call
// outputs, reasoning items, the response store (GET, DELETE, previous_response_id); the OpenAI SDK's ResponsesClient through
// Microsoft.Extensions.AI, its function loop included; bad input as 400s naming the field.
#pragma warning disable OPENAI001 // the SDK marks its Responses client experimental
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Estuary.Engine;
using Estuary.Engine.Reasoning;
using Estuary.Testing;
using Microsoft.Extensions.AI;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ResponsesApiTests(ServerFixture fx) : IDisposable
{
    private const string Tool = "{\"type\":\"function\",\"name\":\"get_weather\",\"description\":\"d\",\"parameters\":{\"type\":\"object\"," +
        "\"properties\":{\"city\":{\"type\":\"string\",\"maxLength\":8}},\"required\":[\"city\"]}}";

    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-responses-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> PostAsync(HttpClient client, string path, string body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await client.PostAsync(path, Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {text}");
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    private static string OutputText(JsonElement response) => string.Concat(response.GetProperty("output").EnumerateArray()
        .Where(i => i.GetProperty("type").GetString() == "message")
        .SelectMany(i => i.GetProperty("content").EnumerateArray()).Select(p => p.GetProperty("text").GetString()));

    /// <summary>The (event name, data) pairs of a streamed response; each data's type is its event's name.</summary>
    private static async Task<List<(string Type, JsonElement Data)>> StreamAsync(HttpClient client, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses") { Content = Json(body) };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<(string, JsonElement)>();
        string? name = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line["event: ".Length..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                using var doc = JsonDocument.Parse(line["data: ".Length..]);
                var data = doc.RootElement.Clone();
                Assert.Equal(name, data.GetProperty("type").GetString());
                Assert.Equal(events.Count, data.GetProperty("sequence_number").GetInt32());
                events.Add((name!, data));
                name = null;
            }
        }
        return events;
    }

    [Fact]
    public async Task A_response_is_the_chat_reply_for_the_same_conversation_streamed_and_not()
    {
        var client = fx.Client;
        var chat = await PostAsync(client, "/v1/chat/completions",
            "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief\"},{\"role\":\"user\",\"content\":\"Tell me a story\"}],\"max_tokens\":12,\"temperature\":0}");
        var content = chat.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();
        var finish = chat.GetProperty("choices")[0].GetProperty("finish_reason").GetString();

        foreach (var input in new[]
        {
            "\"instructions\":\"Be brief\",\"input\":\"Tell me a story\"",
            "\"input\":[{\"role\":\"developer\",\"content\":\"Be brief\"},{\"type\":\"message\",\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"Tell me a story\"}]}]",
        })
        {
            var body = $"{{{input},\"max_output_tokens\":12,\"temperature\":0}}";
            var response = await PostAsync(client, "/v1/responses", body);
            Assert.StartsWith("resp_", response.GetProperty("id").GetString());
            Assert.Equal("response", response.GetProperty("object").GetString());
            Assert.Equal(content, OutputText(response));
            Assert.Equal(finish == "length" ? "incomplete" : "completed", response.GetProperty("status").GetString());
            if (finish == "length") Assert.Equal("max_output_tokens", response.GetProperty("incomplete_details").GetProperty("reason").GetString());
            var usage = response.GetProperty("usage");
            Assert.Equal(chat.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("input_tokens").GetInt32());
            Assert.Equal(chat.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), usage.GetProperty("output_tokens").GetInt32());
            Assert.False(response.GetProperty("store").GetBoolean()); // no store on this server

            var events = await StreamAsync(client, body.Replace("}", ",\"stream\":true}"));
            var types = events.Select(e => e.Type).ToList();
            Assert.Equal(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"], types[..4]);
            Assert.Equal(["response.output_text.done", "response.content_part.done", "response.output_item.done",
                finish == "length" ? "response.incomplete" : "response.completed"], types[^4..]);
            Assert.All(types[4..^4], t => Assert.Equal("response.output_text.delta", t));
            Assert.Equal(content, string.Concat(events.Where(e => e.Type == "response.output_text.delta").Select(e => e.Data.GetProperty("delta").GetString())));
            var final = events[^1].Data.GetProperty("response");
            Assert.Equal(content, OutputText(final));
            Assert.Equal(events[0].Data.GetProperty("response").GetProperty("id").GetString(), final.GetProperty("id").GetString());
            Assert.Equal(usage.GetProperty("output_tokens").GetInt32(), final.GetProperty("usage").GetProperty("output_tokens").GetInt32());
        }
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task Function_tools_call_and_their_outputs_continue_as_in_chat()
    {
        var client = fx.Client;
        var response = await PostAsync(client, "/v1/responses",
            $"{{\"input\":\"Weather?\",\"tools\":[{Tool}],\"tool_choice\":\"required\",\"parallel_tool_calls\":false,\"max_output_tokens\":200,\"temperature\":0}}");
        Assert.Equal("completed", response.GetProperty("status").GetString());
        var call = Assert.Single(response.GetProperty("output").EnumerateArray());
        Assert.Equal("function_call", call.GetProperty("type").GetString());
        Assert.Equal("get_weather", call.GetProperty("name").GetString());
        var arguments = call.GetProperty("arguments").GetString()!;
        var chat = await PostAsync(client, "/v1/chat/completions",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"}],\"tools\":[{\"type\":\"function\",\"function\":" + JsonNode.Parse(Tool)!.AsObject().Also(o => o.Remove("type")).ToJsonString() +
            "}],\"tool_choice\":\"required\",\"parallel_tool_calls\":false,\"max_tokens\":200,\"temperature\":0}");
        Assert.Equal(arguments, chat.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls")[0].GetProperty("function").GetProperty("arguments").GetString());

        // Streamed: the call's item, then its arguments as deltas adding up to the same text.
        var events = await StreamAsync(client, $"{{\"input\":\"Weather?\",\"tools\":[{Tool}],\"tool_choice\":{{\"type\":\"function\",\"name\":\"get_weather\"}}," +
            "\"max_output_tokens\":200,\"temperature\":0,\"stream\":true}");
        var added = events.Single(e => e.Type == "response.output_item.added").Data.GetProperty("item");
        Assert.Equal(("function_call", "get_weather"), (added.GetProperty("type").GetString(), added.GetProperty("name").GetString()));
        var streamed = string.Concat(events.Where(e => e.Type == "response.function_call_arguments.delta").Select(e => e.Data.GetProperty("delta").GetString()));
        Assert.Equal(streamed, events.Single(e => e.Type == "response.function_call_arguments.done").Data.GetProperty("arguments").GetString());
        using (JsonDocument.Parse(streamed)) { }

        // The call and its output as input items: the same reply as the chat conversation with the call and the tool turn.
        var callId = call.GetProperty("call_id").GetString();
        var next = await PostAsync(client, "/v1/responses", "{\"input\":[{\"role\":\"user\",\"content\":\"Weather?\"}," +
            $"{{\"type\":\"function_call\",\"call_id\":\"{callId}\",\"name\":\"get_weather\",\"arguments\":{JsonSerializer.Serialize(arguments)}}}," +
            $"{{\"type\":\"function_call_output\",\"call_id\":\"{callId}\",\"output\":\"sunny\"}}],\"tools\":[{Tool}],\"max_output_tokens\":10,\"temperature\":0}}");
        var chatNext = await PostAsync(client, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"}," +
            $"{{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{{\"id\":\"{callId}\",\"type\":\"function\",\"function\":{{\"name\":\"get_weather\",\"arguments\":{JsonSerializer.Serialize(arguments)}}}}}]}}," +
            $"{{\"role\":\"tool\",\"tool_call_id\":\"{callId}\",\"content\":\"sunny\"}}],\"tools\":[{{\"type\":\"function\",\"function\":{JsonNode.Parse(Tool)!.AsObject().Also(o => o.Remove("type")).ToJsonString()}}}],\"max_tokens\":10,\"temperature\":0}}");
        Assert.Equal(chatNext.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), next.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        Assert.Equal(chatNext.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), OutputText(next));
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task The_store_keeps_responses_for_get_delete_and_previous_response_id()
    {
        var client = await fx.StartAsync(fx.Stories, new ServerOptions { ServedModelName = "stories260k", ResponsesStoreCapacity = 4 });
        var first = await PostAsync(client, "/v1/responses", "{\"input\":\"Tell me a story\",\"max_output_tokens\":8,\"temperature\":0}");
        Assert.True(first.GetProperty("store").GetBoolean());
        var id = first.GetProperty("id").GetString();
        Assert.Equal(first.GetRawText(), (await client.GetStringAsync($"/v1/responses/{id}")).Trim());

        // Continuing it: the same reply as the chat conversation with its reply as the assistant turn.
        var next = await PostAsync(client, "/v1/responses", $"{{\"previous_response_id\":\"{id}\",\"input\":\"And then?\",\"max_output_tokens\":8,\"temperature\":0}}");
        var chat = await PostAsync(client, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story\"}," +
            $"{{\"role\":\"assistant\",\"content\":{JsonSerializer.Serialize(OutputText(first))}}},{{\"role\":\"user\",\"content\":\"And then?\"}}],\"max_tokens\":8,\"temperature\":0}}");
        Assert.Equal(chat.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), OutputText(next));
        Assert.Equal(id, next.GetProperty("previous_response_id").GetString());

        // Its input items, listed back with ids: newest first by default, paged.
        var listed = await PostAsync(client, "/v1/responses", "{\"input\":[{\"role\":\"user\",\"content\":\"Tell me\"}," +
            "{\"type\":\"message\",\"role\":\"assistant\",\"content\":\"a story\"},{\"role\":\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"please\"}]}],\"max_output_tokens\":2}");
        var listedId = listed.GetProperty("id").GetString();
        using (var items = JsonDocument.Parse(await client.GetStringAsync($"/v1/responses/{listedId}/input_items")))
        {
            var data = items.RootElement.GetProperty("data").EnumerateArray().ToList();
            Assert.Equal(["please", "a story", "Tell me"], data.Select(i => i.GetProperty("content")[0].GetProperty("text").GetString()));
            Assert.Equal(["input_text", "output_text", "input_text"], data.Select(i => i.GetProperty("content")[0].GetProperty("type").GetString()));
            Assert.All(data, i => Assert.StartsWith("msg_", i.GetProperty("id").GetString()));
            Assert.False(items.RootElement.GetProperty("has_more").GetBoolean());
            var firstAsc = data[^1].GetProperty("id").GetString();
            using var page = JsonDocument.Parse(await client.GetStringAsync($"/v1/responses/{listedId}/input_items?order=asc&limit=1&after={firstAsc}"));
            Assert.Equal("a story", page.RootElement.GetProperty("data")[0].GetProperty("content")[0].GetProperty("text").GetString());
            Assert.True(page.RootElement.GetProperty("has_more").GetBoolean());
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/v1/responses/{listedId}/input_items?limit=0")).StatusCode);

        // store false is not kept; deleting removes; past the capacity the oldest goes.
        var unstored = await PostAsync(client, "/v1/responses", "{\"input\":\"a\",\"max_output_tokens\":2,\"store\":false}");
        Assert.False(unstored.GetProperty("store").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/responses/{unstored.GetProperty("id").GetString()}")).StatusCode);
        var nextId = next.GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"/v1/responses/{nextId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/responses/{nextId}")).StatusCode);
        for (int i = 0; i < 4; i++) await PostAsync(client, "/v1/responses", "{\"input\":\"b\",\"max_output_tokens\":2}");
        var gone = await PostAsync(client, "/v1/responses", $"{{\"previous_response_id\":\"{id}\",\"input\":\"c\"}}", HttpStatusCode.NotFound);
        Assert.Equal("previous_response_id", gone.GetProperty("error").GetProperty("param").GetString());

        // Without a store: a 400 naming the field.
        var off = await PostAsync(fx.Client, "/v1/responses", $"{{\"previous_response_id\":\"{id}\",\"input\":\"c\"}}", HttpStatusCode.BadRequest);
        Assert.Contains("--enable-responses-api-store", off.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task The_openai_sdk_runs_its_function_loop_over_responses()
    {
        // Microsoft.Extensions.AI's IChatClient over the OpenAI SDK's ResponsesClient, with automatic function invocation, on
        // a server with and without the store (MEAI then continues by previous_response_id, or sends the whole history).
        foreach (int capacity in new[] { 0, 8 })
        {
            var http = await fx.StartAsync(fx.Stories, new ServerOptions { ServedModelName = "stories260k", ResponsesStoreCapacity = capacity });
            var responses = new OpenAI.Responses.ResponsesClient(new System.ClientModel.ApiKeyCredential("unused"),
                new OpenAI.Responses.ResponsesClientOptions { Endpoint = new Uri(http.BaseAddress!, "/v1"), NetworkTimeout = TimeSpan.FromSeconds(30) });
            using var plain = responses.AsIChatClient("stories260k");
            var expected = OutputText(await PostAsync(http, "/v1/responses", "{\"input\":\"Tell me a story\",\"max_output_tokens\":12,\"temperature\":0,\"store\":false}"));
            var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 12, RawRepresentationFactory = _ => new OpenAI.Responses.CreateResponseOptions { StoredOutputEnabled = false } };
            Assert.Equal(expected, (await plain.GetResponseAsync("Tell me a story", options)).Text);
            Assert.Equal(expected, (await plain.GetStreamingResponseAsync("Tell me a story", options).ToChatResponseAsync()).Text);

            int invocations = 0;
            var add = AIFunctionFactory.Create((int a, int b) => { invocations++; return a + b; }, "add", "Adds two integers");
            var conversations = new List<string?>();
            using var chat = new ChatClientBuilder(responses.AsIChatClient("stories260k")).UseFunctionInvocation()
                .Use((messages, options, next, ct) => { conversations.Add(options?.ConversationId); return next(messages, options, ct); })
                .Build();
            var reply = await chat.GetResponseAsync("What is 2 + 3?",
                new ChatOptions { Temperature = 0, MaxOutputTokens = 60, Tools = [add], ToolMode = ChatToolMode.RequireAny, AllowMultipleToolCalls = false });
            Assert.Equal(1, invocations);
            Assert.Single(reply.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>());
            Assert.False(string.IsNullOrEmpty(reply.Messages[^1].Text));
            // With the store the loop's second round continues the first response by its id; without, it sends the history.
            Assert.Equal(2, conversations.Count);
            if (capacity > 0) Assert.StartsWith("resp_", conversations[1]);
            else Assert.Null(conversations[1]);
        }
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task Reasoning_comes_out_as_a_reasoning_item_and_is_counted()
    {
        const string template = "{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>{{ m['content'] }}<|eot_id|>{% endfor %}" +
            "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>{% endif %}";
        var dir = ScriptedTestModel.Write(Path.Combine(_dir, "model"), template, ["<think>", "</think>"], tok =>
            [[tok.PieceToId("<|end_header_id|>")!.Value, tok.PieceToId("<think>")!.Value, .. tok.Encode("Let me", false),
              tok.PieceToId("</think>")!.Value, .. tok.Encode("\nFour", false)]]);
        using var engine = new AsyncLlmEngine(LlmEngine.Load(dir, new EngineConfig { NumThreads = 1, NumKvBlocks = 64 }));
        var client = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "scripted", ReasoningParser = ReasoningParser.DeepSeekR1 });
        int reasoningTokens = 2 + engine.Engine.Tokenizer.Encode("Let me", false).Length;

        var response = await PostAsync(client, "/v1/responses", "{\"input\":\"2+2?\",\"max_output_tokens\":40,\"temperature\":0}");
        var output = response.GetProperty("output");
        Assert.Equal(["reasoning", "message"], output.EnumerateArray().Select(i => i.GetProperty("type").GetString()));
        Assert.Equal("Let me", output[0].GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("\nFour", OutputText(response));
        Assert.Equal(reasoningTokens, response.GetProperty("usage").GetProperty("output_tokens_details").GetProperty("reasoning_tokens").GetInt32());

        var events = await StreamAsync(client, "{\"input\":\"2+2?\",\"max_output_tokens\":40,\"temperature\":0,\"stream\":true}");
        Assert.Equal("Let me", string.Concat(events.Where(e => e.Type == "response.reasoning_text.delta").Select(e => e.Data.GetProperty("delta").GetString())));
        Assert.Equal("\nFour", string.Concat(events.Where(e => e.Type == "response.output_text.delta").Select(e => e.Data.GetProperty("delta").GetString())));
        var final = events[^1].Data.GetProperty("response");
        Assert.Equal(["reasoning", "message"], final.GetProperty("output").EnumerateArray().Select(i => i.GetProperty("type").GetString()));
        Assert.Equal(reasoningTokens, final.GetProperty("usage").GetProperty("output_tokens_details").GetProperty("reasoning_tokens").GetInt32());
        await ServerFixture.AssertAllBlocksFreeAsync(engine);
    }

    [Theory]
    [InlineData("{\"max_output_tokens\":4}", "input", "'input' is required")]
    [InlineData("{\"input\":\"a\",\"background\":true}", "background", "'background' responses are not supported")]
    [InlineData("{\"input\":\"a\",\"n\":2}", "n", "'n' is not a Responses field")]
    [InlineData("{\"input\":\"a\",\"max_tokens\":2}", "max_tokens", "use 'max_output_tokens'")]
    [InlineData("{\"input\":\"a\",\"prompt_logprobs\":1}", "prompt_logprobs", "not available on /v1/responses")]
    [InlineData("{\"input\":\"a\",\"truncation\":\"auto\"}", "truncation", "'truncation' 'auto' is not supported")]
    [InlineData("{\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_image\",\"image_url\":\"x\"}]}]}", "input[0].content[0].type", "text parts only")]
    [InlineData("{\"input\":[{\"role\":\"robot\",\"content\":\"a\"}]}", "input[0].role", "'input[0].role' is 'robot'")]
    [InlineData("{\"input\":[{\"type\":\"web_search_call\"}]}", "input[0].type", "'input[0].type' is 'web_search_call'")]
    [InlineData("{\"input\":[{\"role\":\"user\",\"content\":\"a\",\"id\":5}]}", "input[0].id", "'input[0].id' must be a string")]
    [InlineData("{\"input\":[{\"type\":\"function_call_output\",\"call_id\":\"c\"}]}", "input[0].output", "'input[0].output' is required")]
    [InlineData("{\"input\":[{\"type\":\"reasoning\",\"summary\":[{\"type\":1,\"text\":\"s\"}]}]}", "input[0].summary[0]", "must be {\"type\": \"summary_text\"")] // was a 500 (fuzzer, seed 911)
    [InlineData("{\"input\":\"a\",\"tools\":[{\"type\":\"web_search\"}]}", "tools", "only function tools")]
    [InlineData("{\"input\":\"a\",\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"x\"}}}", "text.format", "'text.format.schema' is required")]
    [InlineData("{\"input\":\"a\",\"tools\":[{\"type\":\"function\",\"name\":\"f\",\"description\":{\"type\":\"text\"}}]}", "tools", "'tools[0].description' must be a string")]
    [InlineData("{\"input\":\"a\",\"tools\":[{\"type\":\"function\",\"name\":\"bad name!\"}]}", "tools", "'tools[0].name' must be")]
    [InlineData("{\"input\":\"a\",\"text\":{\"format\":{\"type\":\"xml\"}}}", "text.format", "'text.format' type 'xml' is not supported")]
    [InlineData("{\"input\":\"a\",\"tool_choice\":{\"type\":\"file_search\"}}", "tool_choice", "'tool_choice' must be")]
    [InlineData("{\"input\":\"a\",\"max_output_tokens\":100000}", "max_output_tokens", "max_output_tokens is 100000")]
    public async Task Bad_requests_are_400s_naming_the_field(string body, string param, string message)
    {
        var error = (await PostAsync(fx.Client, "/v1/responses", body, HttpStatusCode.BadRequest)).GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_json_schema_text_format_holds_the_reply()
    {
        var response = await PostAsync(fx.Client, "/v1/responses", "{\"input\":\"a\",\"max_output_tokens\":60,\"temperature\":0,\"text\":{\"format\":" +
            "{\"type\":\"json_schema\",\"name\":\"p\",\"schema\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"minimum\":3,\"maximum\":99}},\"required\":[\"a\"],\"additionalProperties\":false}}}}");
        using var doc = JsonDocument.Parse(OutputText(response));
        Assert.True(doc.RootElement.GetProperty("a").GetInt32() >= 3);
        Assert.Equal("json_schema", response.GetProperty("text").GetProperty("format").GetProperty("type").GetString());
    }
}

internal static class JsonObjectExtensions
{
    public static JsonObject Also(this JsonObject o, Action<JsonObject> change)
    {
        change(o);
        return o;
    }
}
