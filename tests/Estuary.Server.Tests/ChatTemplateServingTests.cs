// A model folder with a chat template is served with it: /tokenize and chat requests see the template's ids, and the
// template's own raise_exception is the request's 400.
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Estuary.Engine;
using Microsoft.Extensions.AI;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ChatTemplateServingTests(ServerFixture fx) : IDisposable
{
    private const string Template =
        "{% for m in messages %}{% if (m.role == 'user') != loop.index0 is even %}{{ raise_exception('turns must alternate, user first') }}{% endif %}" +
        "{{ bos_token if m.role == 'user' }}{{ m.role | upper }}: {{ m.content | trim }}\n{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}";

    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-served-template-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    /// <summary>The embedded model in a folder of its own whose tokenizer_config.json has <paramref name="template"/>.</summary>
    private AsyncLlmEngine EngineWithTemplate(string template)
    {
        foreach (var f in Directory.GetFiles(ServerFixture.EmbeddedModel)) File.Copy(f, Path.Combine(_dir, Path.GetFileName(f)));
        var configPath = Path.Combine(_dir, "tokenizer_config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["chat_template"] = template;
        File.WriteAllText(configPath, config.ToJsonString());
        return new AsyncLlmEngine(LlmEngine.Load(_dir, new EngineConfig { NumThreads = 1, NumKvBlocks = 64 }));
    }

    [Fact]
    public async Task RequestsUseTheFoldersTemplate()
    {
        using var engine = EngineWithTemplate(Template);
        var client = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "templated" });

        const string messages = "[{\"role\":\"user\",\"content\":\" Tell me a story \"},{\"role\":\"assistant\",\"content\":\"Once\"},{\"role\":\"user\",\"content\":\"More\"}]";
        using var tokenized = JsonDocument.Parse(await (await client.PostAsync("/tokenize", Json($"{{\"messages\":{messages}}}"))).Content.ReadAsStringAsync());
        var ids = tokenized.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var tok = engine.Engine.Tokenizer;
        int[] expected = [tok.BosId, .. tok.Encode("USER: Tell me a story\nASSISTANT: Once\n", false), tok.BosId, .. tok.Encode("USER: More\nASSISTANT:", false)];
        Assert.Equal(expected, ids);

        using var chat = await client.PostAsync("/v1/chat/completions", Json($"{{\"messages\":{messages},\"max_tokens\":3}}"));
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        using var chatDoc = JsonDocument.Parse(await chat.Content.ReadAsStringAsync());
        Assert.Equal(ids.Length, chatDoc.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        // vLLM's extras: the assistant's turn left unopened, or the last (assistant) message continued.
        using var closed = JsonDocument.Parse(await (await client.PostAsync("/tokenize", Json($"{{\"messages\":{messages},\"add_generation_prompt\":false}}"))).Content.ReadAsStringAsync());
        int[] unopened = [tok.BosId, .. tok.Encode("USER: Tell me a story\nASSISTANT: Once\n", false), tok.BosId, .. tok.Encode("USER: More\n", false)];
        Assert.Equal(unopened, closed.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        const string prefilled = "[{\"role\":\"user\",\"content\":\"Tell me a story\"},{\"role\":\"assistant\",\"content\":\"Once upon\"}]";
        using var continued = await client.PostAsync("/v1/chat/completions", Json($"{{\"messages\":{prefilled},\"continue_final_message\":true,\"max_tokens\":2}}"));
        Assert.Equal(HttpStatusCode.OK, continued.StatusCode);
        using var continuedIds = JsonDocument.Parse(await (await client.PostAsync("/tokenize", Json($"{{\"messages\":{prefilled},\"continue_final_message\":true}}"))).Content.ReadAsStringAsync());
        Assert.Equal([tok.BosId, .. tok.Encode("USER: Tell me a story\nASSISTANT: Once upon", false)],
            continuedIds.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        using var both = await client.PostAsync("/v1/chat/completions", Json($"{{\"messages\":{prefilled},\"continue_final_message\":true,\"add_generation_prompt\":true}}"));
        Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
        // The built-in formats cannot leave the assistant's turn unopened.
        using var builtIn = await fx.Client.PostAsync("/v1/chat/completions", Json($"{{\"messages\":{prefilled},\"continue_final_message\":true}}"));
        Assert.Equal(HttpStatusCode.BadRequest, builtIn.StatusCode);
        Assert.Contains("continue_final_message", await builtIn.Content.ReadAsStringAsync());

        using var bad = await client.PostAsync("/v1/chat/completions", Json("{\"messages\":[{\"role\":\"assistant\",\"content\":\"hi\"}]}"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var badDoc = JsonDocument.Parse(await bad.Content.ReadAsStringAsync());
        Assert.Equal("turns must alternate, user first", badDoc.RootElement.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("messages", badDoc.RootElement.GetProperty("error").GetProperty("param").GetString());
        await ServerFixture.AssertAllBlocksFreeAsync(engine);
    }

    private const string ToolTemplate =
        "{% if tools %}TOOLS:{% for t in tools %} {{ t.function.name }}{% endfor %}\n{% endif %}{% for m in messages %}" +
        "{% if m.role == 'tool' %}RESULT {{ m.tool_call_id }}: {{ m.content }}\n{% elif m.tool_calls %}CALL{% for c in m.tool_calls %} {{ c.function.name }}" +
        "{{ c.function.arguments | tojson }}{% endfor %}\n{% else %}{{ m.role | upper }}: {{ m.content }}\n{% endif %}{% endfor %}" +
        "{% if add_generation_prompt %}ASSISTANT:{% endif %}";

    [Fact]
    public async Task MicrosoftExtensionsAiRunsItsFunctionLoopAgainstTheServer()
    {
        // What a .NET application does: Microsoft.Extensions.AI's IChatClient over the OpenAI SDK, with automatic function
        // invocation. The first round must call (RequireAny); the loop then sends the result back with the tool mode unset
        // ("auto"), and the story model answers in text.
        using var engine = EngineWithTemplate(ToolTemplate);
        var http = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "tools" });
        int invocations = 0;
        var add = AIFunctionFactory.Create((int a, int b) => { invocations++; return a + b; }, "add", "Adds two integers");
        foreach (bool streaming in new[] { false, true })
        {
            invocations = 0;
            var prompts = new List<string>();
            using var chat = new ChatClientBuilder(ServerFixture.OpenAiChat(http, "tools").AsIChatClient())
                .UseFunctionInvocation()
                .Use((messages, options, next, ct) => { prompts.Add(string.Join("|", messages.Select(m => m.Role.Value))); return next(messages, options, ct); })
                .Build();
            var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 150, Tools = [add], ToolMode = ChatToolMode.RequireAny, AllowMultipleToolCalls = false };
            ChatResponse response = streaming
                ? await chat.GetStreamingResponseAsync("What is 2 + 3?", options).ToChatResponseAsync()
                : await chat.GetResponseAsync("What is 2 + 3?", options);
            Assert.True(1 == invocations, string.Join("\n", response.Messages.Select(m => m.Role + ": " + string.Join(", ", m.Contents.Select(c => c.GetType().Name + " " + (c as TextContent)?.Text)))) + " " + response.FinishReason + string.Join(",", prompts));
            var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
            var result = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>());
            Assert.Equal(call.CallId, result.CallId);
            Assert.Equal(["user", "user|assistant|tool"], prompts);
            Assert.Equal(ChatRole.Assistant, response.Messages[^1].Role);
            Assert.False(string.IsNullOrEmpty(response.Messages[^1].Text));
        }
        await ServerFixture.AssertAllBlocksFreeAsync(engine);
    }

    // A template that, as Mistral's do, refuses tool call ids that are not nine characters (on calls and on results).
    private const string NineCharacterIdTemplate =
        "{% for m in messages %}{% if m.role == 'tool' %}{% if m.tool_call_id | length != 9 %}{{ raise_exception('Tool call IDs should be alphanumeric strings with length 9!') }}{% endif %}" +
        "RESULT: {{ m.content }}\n{% elif m.tool_calls %}{% for c in m.tool_calls %}{% if c.id | length != 9 %}{{ raise_exception('Tool call IDs should be alphanumeric strings with length 9!') }}{% endif %}" +
        "CALL {{ c.function.name }}\n{% endfor %}{% else %}{{ m.role | upper }}: {{ m.content }}\n{% endif %}{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}";

    [Fact]
    public async Task ToolCallIdsAreNineCharactersWhenTheTemplateDemandsIt()
    {
        // Microsoft.Extensions.AI's function loop sends the call's id back twice (the call, its result); a Mistral-style
        // template raises on OpenAI-style ids, so the second round would be a 400. Chat completions and Responses.
        using var engine = EngineWithTemplate(NineCharacterIdTemplate);
        var http = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "tools" });
        var add = AIFunctionFactory.Create((int a, int b) => a + b, "add", "Adds two integers");
#pragma warning disable OPENAI001 // the SDK marks its Responses client experimental
        var responses = new OpenAI.Responses.ResponsesClient(new System.ClientModel.ApiKeyCredential("unused"),
            new OpenAI.Responses.ResponsesClientOptions { Endpoint = new Uri(http.BaseAddress!, "/v1"), NetworkTimeout = TimeSpan.FromSeconds(30) });
        foreach (var client in new[] { ServerFixture.OpenAiChat(http, "tools").AsIChatClient(), responses.AsIChatClient("tools") })
#pragma warning restore OPENAI001
        {
            using var chat = new ChatClientBuilder(client).UseFunctionInvocation().Build();
            var response = await chat.GetResponseAsync("What is 2 + 3?", new ChatOptions
            {
                Temperature = 0, MaxOutputTokens = 150, Tools = [add], ToolMode = ChatToolMode.RequireAny, AllowMultipleToolCalls = false,
            });
            var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
            Assert.Matches("^[A-Za-z0-9]{9}$", call.CallId);
            Assert.False(string.IsNullOrEmpty(response.Messages[^1].Text));
        }

        // A reply's ids through the plain API too, streamed and not.
        const string body = "{\"messages\":[{\"role\":\"user\",\"content\":\"2+3?\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"add\"," +
            "\"parameters\":{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}}}],\"tool_choice\":\"required\",\"parallel_tool_calls\":false,\"max_tokens\":100}";
        using var whole = await http.PostAsync("/v1/chat/completions", Json(body));
        using var doc = JsonDocument.Parse(await whole.Content.ReadAsStringAsync());
        Assert.Matches("^[A-Za-z0-9]{9}$", doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls")[0].GetProperty("id").GetString());
        var streamedIds = (await Sse.ReadAsync(http, "/v1/chat/completions", body[..^1] + ",\"stream\":true}"))
            .Where(d => d != "[DONE]").Select(d => JsonDocument.Parse(d).RootElement.GetProperty("choices")[0].GetProperty("delta"))
            .Where(d => d.TryGetProperty("tool_calls", out _)).SelectMany(d => d.GetProperty("tool_calls").EnumerateArray())
            .Where(c => c.TryGetProperty("id", out _)).Select(c => c.GetProperty("id").GetString()).ToList();
        Assert.All(streamedIds, id => Assert.Matches("^[A-Za-z0-9]{9}$", id));
        Assert.NotEmpty(streamedIds);
        await ServerFixture.AssertAllBlocksFreeAsync(engine);
    }

    [Fact]
    public async Task ToolsAndToolTurnsReachTheTemplate()
    {
        using var engine = EngineWithTemplate(ToolTemplate);
        var client = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "tools" });

        const string tools = "[{\"type\":\"function\",\"function\":{\"name\":\"add\",\"parameters\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}," +
            "\"b\":{\"type\":\"integer\"}},\"required\":[\"a\",\"b\"]}}},{\"type\":\"function\",\"function\":{\"name\":\"now\"}}]";
        const string messages = "[{\"role\":\"user\",\"content\":\"2+2?\"},{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_7\"," +
            "\"type\":\"function\",\"function\":{\"name\":\"add\",\"arguments\":\"{\\\"a\\\":2,\\\"b\\\":2}\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"call_7\",\"content\":\"4\"}]";
        using var response = await client.PostAsync("/v1/chat/completions", Json(
            $"{{\"messages\":{messages},\"tools\":{tools},\"tool_choice\":{{\"type\":\"function\",\"function\":{{\"name\":\"add\"}}}},\"max_tokens\":40}}"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var doc = JsonDocument.Parse(body);
        // The prompt is the template's rendering: the tools listed, the call with its arguments parsed, the result. (Text as
        // Jinja2 renders it with Hugging Face's trim_blocks, which drops the newline right after a block tag.)
        var tok = engine.Engine.Tokenizer;
        var expected = tok.Encode("TOOLS: add nowUSER: 2+2?\nCALL add{\"a\": 2, \"b\": 2}RESULT call_7: 4\nASSISTANT:", false);
        Assert.Equal(expected.Length, doc.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        var call = doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls")[0];
        Assert.Equal("add", call.GetProperty("function").GetProperty("name").GetString());
        await ServerFixture.AssertAllBlocksFreeAsync(engine);
    }

    [Fact]
    public async Task AnAssistantsEmptyToolCallsListReachesTheTemplateAsAnEmptyList()
    {
        // vLLM hands messages to the template as sent: "tool_calls": [] is defined and empty, an absent one undefined.
        using var engine = EngineWithTemplate("{% for m in messages %}{{ m.role }}:{% if m.tool_calls is defined %}defined {{ m.tool_calls | length }}" +
            "{% else %}undefined{% endif %};{% endfor %}");
        var client = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "templated" });
        const string messages = "[{\"role\":\"user\",\"content\":\"hi\"},{\"role\":\"assistant\",\"content\":\"yes\",\"tool_calls\":[]}," +
            "{\"role\":\"assistant\",\"content\":\"no\"},{\"role\":\"user\",\"content\":\"ok\",\"tool_calls\":[]}]";
        using var response = await client.PostAsync("/tokenize", Json($"{{\"messages\":{messages}}}"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var doc = JsonDocument.Parse(body);
        var ids = doc.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.Equal("user:undefined;assistant:defined 0;assistant:undefined;user:undefined;", engine.Engine.Tokenizer.Decode(ids));
    }

    [Fact]
    public async Task ChatTemplateKwargsBecomeTemplateVariables()
    {
        // vLLM's chat_template_kwargs, as Qwen3's enable_thinking is turned off: more variables for the template.
        using var engine = EngineWithTemplate("{% if enable_thinking is defined and not enable_thinking %}NOTHINK {% endif %}" +
            "{% for m in messages %}{{ m.content }}{% endfor %}{{ suffix | default('') }}");
        var client = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "templated" });
        const string messages = "[{\"role\":\"user\",\"content\":\"hi\"}]";
        async Task<(HttpStatusCode, JsonElement)> PostAsync(HttpClient c, string path, string body)
        {
            using var response = await c.PostAsync(path, Json(body));
            return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
        }
        string Text(JsonElement r) => engine.Engine.Tokenizer.Decode([.. r.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32())]);

        var (_, plain) = await PostAsync(client, "/tokenize", $"{{\"messages\":{messages}}}");
        Assert.Equal("hi", Text(plain));
        var (_, empty) = await PostAsync(client, "/tokenize", $"{{\"messages\":{messages},\"chat_template_kwargs\":{{}}}}");
        Assert.Equal("hi", Text(empty));
        const string kwargs = "\"chat_template_kwargs\":{\"enable_thinking\":false,\"suffix\":\" bye\"}";
        var (status, off) = await PostAsync(client, "/tokenize", $"{{\"messages\":{messages},{kwargs}}}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("NOTHINK hi bye", Text(off));
        var (_, chat) = await PostAsync(client, "/v1/chat/completions", $"{{\"messages\":{messages},{kwargs},\"max_tokens\":1}}");
        Assert.Equal(off.GetProperty("count").GetInt32(), chat.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        foreach (var bad in new[] { "[1]", "{\"messages\":[]}", "{\"add_generation_prompt\":false}" })
        {
            var (code, error) = await PostAsync(client, "/v1/chat/completions", $"{{\"messages\":{messages},\"chat_template_kwargs\":{bad},\"max_tokens\":1}}");
            Assert.Equal(HttpStatusCode.BadRequest, code);
            Assert.Equal("chat_template_kwargs", error.GetProperty("error").GetProperty("param").GetString());
        }
        // The built-in formats have no template to pass them to.
        var (builtIn, refused) = await PostAsync(fx.Client, "/v1/chat/completions", $"{{\"messages\":{messages},{kwargs},\"max_tokens\":1}}");
        Assert.Equal(HttpStatusCode.BadRequest, builtIn);
        Assert.Equal("chat_template_kwargs", refused.GetProperty("error").GetProperty("param").GetString());
        await ServerFixture.AssertAllBlocksFreeAsync(engine);
    }
}
