// --reasoning-parser end to end on a scripted model whose greedy reply is "<think>Let me</think>\nFour" (whatever the
// prompt, but for the tags the template may end the prompt with): the reasoning goes to message.reasoning (and
// reasoning_content), streamed and not; the template's opened or closed reasoning is honoured; a guided regex or a Hermes
// tool call applies after </think>; assistant reasoning reaches the template; a tokenizer without the tags is refused.
using Estuary.Engine.Reasoning;
using System.Net;
using System.Text;
using System.Text.Json;
using Estuary.Engine;
using Estuary.Testing;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ReasoningServingTests(ServerFixture fx) : IDisposable
{
    // Llama 3-style turns; an assistant turn's reasoning is written back inside <think>; the generation prompt leaves the
    // reasoning to the model, opens it (open_thinking, as DeepSeek-R1's template does) or closes it empty (enable_thinking
    // false, as Qwen3's does, unless bare).
    private const string Template =
        "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>" +
        "{% if m.reasoning_content is defined %}<think>{{ m.reasoning_content }}</think>{% endif %}{{ m['content'] }}<|eot_id|>{% endfor %}" +
        "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>" +
        "{% if enable_thinking is defined and enable_thinking is false and not (bare is defined and bare) %}<think></think>" +
        "{% elif open_thinking is defined and open_thinking %}<think>{% endif %}{% endif %}";

    private const string Reasoning = "Let me";
    private const string Answer = "\nFour";
    private const string Reply = "<think>" + Reasoning + "</think>" + Answer;

    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-reasoning-model-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private AsyncLlmEngine Engine()
    {
        var dir = ScriptedTestModel.Write(Path.Combine(_dir, "model"), Template, ["<think>", "</think>"], tok =>
        {
            int Id(string piece) => tok.PieceToId(piece)!.Value;
            // After the assistant header: the whole reply; after an opened <think> or a closed </think>, the rest of it.
            return [[Id("<|end_header_id|>"), Id("<think>"), .. tok.Encode(Reasoning, false), Id("</think>"), .. tok.Encode(Answer, false)]];
        });
        return new AsyncLlmEngine(LlmEngine.Load(dir, new EngineConfig { NumThreads = 1, NumKvBlocks = 64 }));
    }

    private static string Body(bool stream, string extra = "") =>
        $"{{\"messages\":[{{\"role\":\"user\",\"content\":\"2+2?\"}}],\"max_tokens\":40,\"temperature\":0,\"stream\":{(stream ? "true" : "false")}{extra}}}";

    private static async Task<JsonElement> PostAsync(HttpClient client, string body)
    {
        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.GetProperty("choices")[0].Clone();
    }

    /// <summary>The message's (reasoning, content, finish reason); reasoning null when absent, checked equal to reasoning_content.</summary>
    private static async Task<(string? Reasoning, string? Content, string? Finish)> AskAsync(HttpClient client, string extra = "")
    {
        var choice = await PostAsync(client, Body(false, extra));
        var message = choice.GetProperty("message");
        string? reasoning = message.TryGetProperty("reasoning", out var r) ? r.GetString() : null;
        string? alias = message.TryGetProperty("reasoning_content", out var a) ? a.GetString() : null;
        Assert.Equal(reasoning, alias);
        return (reasoning, message.GetProperty("content").GetString(), choice.GetProperty("finish_reason").GetString());
    }

    /// <summary>The streamed reasoning and content added up (null when no piece had one), and the finish reason.</summary>
    private static async Task<(string? Reasoning, string? Content, string? Finish)> StreamAsync(HttpClient client, string extra = "")
    {
        StringBuilder? reasoning = null, content = null;
        string? finish = null;
        foreach (var data in await Sse.ReadAsync(client, "/v1/chat/completions", Body(true, extra)))
        {
            if (data == "[DONE]") break;
            using var chunk = JsonDocument.Parse(data);
            var choice = chunk.RootElement.GetProperty("choices")[0];
            var delta = choice.GetProperty("delta");
            if (delta.TryGetProperty("reasoning", out var r))
            {
                Assert.Equal(r.GetString(), delta.GetProperty("reasoning_content").GetString());
                (reasoning ??= new()).Append(r.GetString());
            }
            if (delta.TryGetProperty("content", out var c) && c.GetString() is { Length: > 0 } text) (content ??= new()).Append(text);
            if (choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String) finish = f.GetString();
        }
        return (reasoning?.ToString(), content?.ToString(), finish);
    }

    [Theory]
    [InlineData(ReasoningParser.DeepSeekR1)]
    [InlineData(ReasoningParser.Qwen3)]
    public async Task The_reasoning_is_split_off_streamed_and_not(ReasoningParser parser)
    {
        using var engine = Engine();
        var client = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "scripted", ReasoningParser = parser });

        Assert.Equal((Reasoning, Answer, "stop"), await AskAsync(client));
        Assert.Equal((Reasoning, Answer, "stop"), await StreamAsync(client));

        // Usage counts the reasoning tokens (<think>, "Let me", </think>) among the completion tokens, for every choice.
        int reasoningTokens = 2 + engine.Engine.Tokenizer.Encode(Reasoning, false).Length;
        using (var usage = JsonDocument.Parse(await (await client.PostAsync("/v1/chat/completions",
            new StringContent(Body(false, ",\"n\":2"), Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync()))
            Assert.Equal(2 * reasoningTokens, usage.RootElement.GetProperty("usage").GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32());
        var streamedUsage = (await Sse.ReadAsync(client, "/v1/chat/completions", Body(true, ",\"stream_options\":{\"include_usage\":true}")))[^2];
        using (var chunk = JsonDocument.Parse(streamedUsage))
            Assert.Equal(reasoningTokens, chunk.RootElement.GetProperty("usage").GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32());

        // The template opened the reasoning (the model writes no <think>): the same reading.
        const string opened = ",\"chat_template_kwargs\":{\"open_thinking\":true}";
        Assert.Equal((Reasoning, Answer, "stop"), await AskAsync(client, opened));
        Assert.Equal((Reasoning, Answer, "stop"), await StreamAsync(client, opened));

        // The template closed it (thinking off): all content, no reasoning field.
        const string closed = ",\"chat_template_kwargs\":{\"enable_thinking\":false}";
        Assert.Equal((null, Answer, "stop"), await AskAsync(client, closed));
        using (var none = JsonDocument.Parse(await (await client.PostAsync("/v1/chat/completions",
            new StringContent(Body(false, closed), Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync()))
            Assert.Equal(0, none.RootElement.GetProperty("usage").GetProperty("completion_tokens_details").GetProperty("reasoning_tokens").GetInt32());
        Assert.Equal((null, Answer, "stop"), await StreamAsync(client, closed));

        // Thinking off but the template ignores it (the prompt ends neutral): Qwen3's parser reads the reply as content,
        // DeepSeek-R1's still splits it.
        const string bare = ",\"chat_template_kwargs\":{\"enable_thinking\":false,\"bare\":true}";
        var expected = parser == ReasoningParser.Qwen3 ? ((string?)null, Reply, "stop") : (Reasoning, Answer, "stop");
        Assert.Equal(expected, await AskAsync(client, bare));
        Assert.Equal(expected, await StreamAsync(client, bare));

        // include_reasoning false: the reasoning is left out, the content is the same.
        Assert.Equal((null, Answer, "stop"), await AskAsync(client, ",\"include_reasoning\":false"));
        Assert.Equal((null, Answer, "stop"), await StreamAsync(client, ",\"include_reasoning\":false"));

        // Cut short inside the reasoning: all reasoning, content null.
        var cut = await AskAsync(client, ",\"max_completion_tokens\":2");
        Assert.True(cut.Reasoning is { Length: > 0 } r && Reasoning.StartsWith(r, StringComparison.Ordinal) && r != Reasoning, cut.Reasoning);
        Assert.Equal(((string?)null, "length"), (cut.Content, cut.Finish));
        await ServerFixture.AssertAllBlocksFreeAsync(engine);
    }

    [Fact]
    public async Task Without_a_parser_the_reply_is_all_content()
    {
        using var engine = Engine();
        var client = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "scripted" });
        Assert.Equal((null, Reply, "stop"), await AskAsync(client));
        Assert.Equal((null, Reply, "stop"), await StreamAsync(client));
    }

    [Fact]
    public async Task A_guided_regex_and_a_hermes_call_apply_after_the_reasoning()
    {
        using var engine = Engine();
        var client = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "scripted", ReasoningParser = ReasoningParser.DeepSeekR1, ToolCallParser = ToolCallParser.Hermes });

        // The reasoning is the model's own; the regex holds the content (the model would say "\nFour").
        const string regex = ",\"guided_regex\":\"\\\\{\\\"a\\\": [0-9]\\\\}\"";
        var (reasoning, content, finish) = await AskAsync(client, regex);
        Assert.Equal(Reasoning, reasoning);
        Assert.Matches("^\\{\"a\": [0-9]\\}$", content);
        Assert.Equal("stop", finish);
        Assert.Equal((reasoning, content, finish), await StreamAsync(client, regex));

        // Without the parser the regex holds the whole reply: no <think> can be written.
        var plain = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "scripted" });
        var whole = await AskAsync(plain, regex);
        Assert.Matches("^\\{\"a\": [0-9]\\}$", whole.Content);
        Assert.Null(whole.Reasoning);

        // A Hermes tool call after the reasoning: read from the content, streamed and not.
        const string tools = ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"add\",\"parameters\":{\"type\":\"object\"}}}]";
        const string call = "<tool_call>{\"name\": \"add\", \"arguments\": {\"a\": 2}}</tool_call>";
        string callRegex = ",\"max_completion_tokens\":200,\"guided_regex\":" + JsonSerializer.Serialize(System.Text.RegularExpressions.Regex.Escape(call).Replace("}", "\\}"));
        var choice = await PostAsync(client, Body(false, tools + callRegex));
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var message = choice.GetProperty("message");
        Assert.Equal(Reasoning, message.GetProperty("reasoning").GetString());
        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        Assert.Equal("{\"a\": 2}", message.GetProperty("tool_calls")[0].GetProperty("function").GetProperty("arguments").GetString());

        var streamedReasoning = new StringBuilder();
        var calls = new List<string>();
        foreach (var data in await Sse.ReadAsync(client, "/v1/chat/completions", Body(true, tools + callRegex)))
        {
            if (data == "[DONE]") break;
            using var chunk = JsonDocument.Parse(data);
            var delta = chunk.RootElement.GetProperty("choices")[0].GetProperty("delta");
            if (delta.TryGetProperty("reasoning", out var r)) streamedReasoning.Append(r.GetString());
            if (delta.TryGetProperty("content", out var c)) Assert.Equal("", c.GetString()); // only the role's opening chunk
            if (delta.TryGetProperty("tool_calls", out var t))
                foreach (var d in t.EnumerateArray()) calls.Add(d.GetProperty("function").GetProperty("name").GetString()!);
        }
        Assert.Equal(Reasoning, streamedReasoning.ToString());
        Assert.Equal(["add"], calls);
        await ServerFixture.AssertAllBlocksFreeAsync(engine);
    }

    [Fact]
    public async Task An_assistant_turns_reasoning_reaches_the_template_under_either_name()
    {
        using var engine = Engine();
        var tok = engine.Engine.Tokenizer;
        var client = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "scripted", ReasoningParser = ReasoningParser.Qwen3 });
        async Task<HttpResponseMessage> Tokenize(string assistantExtra) => await client.PostAsync("/tokenize", new StringContent(
            "{\"messages\":[{\"role\":\"user\",\"content\":\"2+2?\"},{\"role\":\"assistant\",\"content\":\"4\"" + assistantExtra + "}," +
            "{\"role\":\"user\",\"content\":\"and 3+3?\"}]}", Encoding.UTF8, "application/json"));

        foreach (var extra in new[] { ",\"reasoning\":\"add\"", ",\"reasoning_content\":\"add\"", ",\"reasoning\":\"add\",\"reasoning_content\":\"add\"" })
        {
            using var response = await Tokenize(extra);
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var ids = doc.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.Contains("<|end_header_id|><think>add</think>4<|eot_id|>", tok.Decode(ids, skipSpecialTokens: false));
        }

        using var differ = await Tokenize(",\"reasoning\":\"add\",\"reasoning_content\":\"sum\"");
        Assert.Equal(HttpStatusCode.BadRequest, differ.StatusCode);
        Assert.Contains("messages[1].reasoning' and 'messages[1].reasoning_content' differ", await differ.Content.ReadAsStringAsync());

        using var onUser = await client.PostAsync("/v1/chat/completions", new StringContent(
            "{\"messages\":[{\"role\":\"user\",\"content\":\"2+2?\",\"reasoning\":\"x\"}]}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, onUser.StatusCode);
        Assert.Contains("'messages[0].reasoning' is only allowed on assistant messages", await onUser.Content.ReadAsStringAsync());
    }

    [Fact]
    public void A_tokenizer_without_the_tags_is_refused_at_start()
    {
        var e = Assert.Throws<ArgumentException>(() => EstuaryServer.Create(fx.Stories, Estuary.Tokenization.ChatFormats.ForModel(ServerFixture.EmbeddedModel, fx.Stories.Engine.Tokenizer),
            new ServerOptions { Port = 0, ReasoningParser = ReasoningParser.Qwen3 }, logging => { }));
        Assert.Contains("reasoning_parser qwen3 needs '<think>' as one token", e.Message);
    }
}
