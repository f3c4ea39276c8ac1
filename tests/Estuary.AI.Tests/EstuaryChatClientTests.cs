// The in-process IChatClient over the embedded stories260K model: replies equal the engine's own greedy output for the same
// chat prompt, streaming adds up to the whole reply, options reach the sampler, response formats and typed results hold,
// Microsoft.Extensions.AI's function-invocation loop runs over it, and bad input is an exception that names the problem.
using System.ComponentModel;
using System.Text;
using System.Text.Json;
using Estuary.Engine;
using Estuary.Tokenization;
using Microsoft.Extensions.AI;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Estuary.AI.Tests;

public sealed class EstuaryChatClientTests : IDisposable
{
    private static string EmbeddedModel => Path.Combine(AppContext.BaseDirectory, "models", "stories260k");

    // A template that shows the tools, the calls and their results to the model (the built-in Llama 2 format has no tool turns).
    private const string ToolTemplate =
        "{% if tools %}TOOLS: {% for t in tools %}{{ t.function.name }} {% endfor %}\n{% endif %}" +
        "{% for m in messages %}{% if m.role == 'tool' %}RESULT {{ m.tool_call_id }}: {{ m.content }}\n" +
        "{% elif m.tool_calls %}CALLS:{% for c in m.tool_calls %} {{ c.function.name }}{{ c.function.arguments | tojson }}{% endfor %}\n" +
        "{% else %}{{ m.role | upper }}: {{ m.content }}\n{% endif %}{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}";

    private readonly EstuaryChatClient _client = EstuaryChatClient.Load(EmbeddedModel, new EngineConfig { NumThreads = 1, NumKvBlocks = 128 });

    public void Dispose() => _client.Dispose();

    private static ChatOptions Greedy(int maxTokens) => new() { Temperature = 0, MaxOutputTokens = maxTokens };

    private async Task<string> EngineGreedyAsync(string user, int maxTokens)
    {
        var format = ChatFormats.ForModel(EmbeddedModel, _client.Engine.Engine.Tokenizer);
        var prompt = format.BuildPrompt([new Tokenization.ChatMessage("user", user)], maxTokens);
        var text = new StringBuilder();
        await foreach (var o in _client.Engine.Generate(prompt, SamplingParams.Greedy(maxTokens))) text.Append(o.NewText);
        return text.ToString();
    }

    private async Task AssertAllBlocksFreeAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (_client.Engine.Stats is var s && !(s.NumFreeKvBlocks == s.NumKvBlocks && s.NumRunning == 0 && s.NumWaiting == 0))
        {
            Assert.True(DateTime.UtcNow < deadline, $"KV blocks not all free: {_client.Engine.Stats}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task AReplyIsTheEnginesGreedyOutputForTheChatPrompt()
    {
        foreach (var user in new[] { "Tell me a story", "Who was Lily?" })
        {
            ChatResponse response = await _client.GetResponseAsync(user, Greedy(30));
            Assert.Equal(await EngineGreedyAsync(user, 30), response.Text);
            Assert.Equal(ChatFinishReason.Length, response.FinishReason);
            Assert.Equal(30, response.Usage!.OutputTokenCount);
            Assert.Equal(response.Usage.InputTokenCount + 30, response.Usage.TotalTokenCount);
            Assert.Equal("stories260k", response.ModelId);
            Assert.Equal(ChatRole.Assistant, Assert.Single(response.Messages).Role);
        }
    }

    [Fact]
    public async Task ConcurrentCallsBatchTogetherAndGiveTheRepliesTheyGiveAlone()
    {
        // One engine serves every caller: concurrent calls share its steps, and batching changes no reply (seeded sampling).
        string[] prompts = ["Tell me a story", "Who was Lily?", "What did Tom see?", "Once upon a time", "The cat", "A big dog", "The sun", "Ben"];
        ChatOptions Options(int i) => new() { Temperature = 0.8f, Seed = 100 + i, MaxOutputTokens = 40 };
        var alone = new List<string>();
        for (int i = 0; i < prompts.Length; i++) alone.Add((await _client.GetResponseAsync(prompts[i], Options(i))).Text);
        long stepsBefore = _client.Engine.Stats.NumSteps;
        var together = await Task.WhenAll(prompts.Select((p, i) => _client.GetResponseAsync(p, Options(i))));
        Assert.Equal(alone, together.Select(r => r.Text));
        long steps = _client.Engine.Stats.NumSteps - stepsBefore;
        Assert.True(steps < 100, $"{steps} steps for 8 × 40 tokens: the calls did not share steps");
        await AssertAllBlocksFreeAsync();
    }

    [Fact]
    public async Task StreamedUpdatesAddUpToTheWholeReply()
    {
        var options = new ChatOptions { Temperature = 0.9f, Seed = 7, MaxOutputTokens = 40 };
        ChatResponse whole = await _client.GetResponseAsync("Tell me a story", options);
        var text = new StringBuilder();
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in _client.GetStreamingResponseAsync("Tell me a story", options))
        {
            updates.Add(update);
            text.Append(update.Text);
        }
        Assert.True(updates.Count > 5, "the reply streamed in pieces");
        Assert.Equal(whole.Text, text.ToString());
        Assert.Equal(whole.FinishReason, updates[^1].FinishReason);
        Assert.Single(updates.SelectMany(u => u.Contents).OfType<UsageContent>());
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());
    }

    [Fact]
    public async Task OptionsReachTheSampler()
    {
        var seeded = new ChatOptions { Temperature = 1, Seed = 3, MaxOutputTokens = 20 };
        var a = (await _client.GetResponseAsync("Tell me a story", seeded)).Text;
        Assert.Equal(a, (await _client.GetResponseAsync("Tell me a story", seeded.Clone())).Text);
        var others = new HashSet<string>();
        for (int seed = 4; seed < 8; seed++) others.Add((await _client.GetResponseAsync("Tell me a story", new ChatOptions { Temperature = 1, Seed = seed, MaxOutputTokens = 20 })).Text);
        Assert.True(others.Count > 1 || !others.Contains(a), "different seeds sample different replies");

        // A stop sequence (five characters from the middle of the greedy reply) ends the reply before its first occurrence.
        var greedy = (await _client.GetResponseAsync("Tell me a story", Greedy(60))).Text;
        var stop = greedy.Substring(greedy.Length / 2, 5);
        int at = greedy.IndexOf(stop, StringComparison.Ordinal);
        var stopped = await _client.GetResponseAsync("Tell me a story", new ChatOptions { Temperature = 0, MaxOutputTokens = 60, StopSequences = [stop] });
        Assert.Equal(greedy[..at], stopped.Text);
        Assert.Equal(ChatFinishReason.Stop, stopped.FinishReason);

        // AdditionalProperties carry vLLM's extras: min_tokens with ignore_eos runs to the limit.
        var extra = new ChatOptions { Temperature = 0, MaxOutputTokens = 300, AdditionalProperties = new() { ["ignore_eos"] = true } };
        Assert.Equal(300, (await _client.GetResponseAsync("Hi", extra)).Usage!.OutputTokenCount);
    }

    private sealed record Pet(string Name, bool Friendly, PetKind Kind);

    // No strings: "{" (favoured in the test below) can only open the answer.
    private sealed record Forecast(bool Rain, PetKind Kind);

    [System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<PetKind>))]
    private enum PetKind { Cat, Dog, Bird }

    [Fact]
    public async Task ResponseFormatsHold()
    {
        var schema = JsonDocument.Parse("""{"type": "object", "properties": {"answer": {"enum": ["yes", "no"]}, "score": {"type": "integer", "minimum": 0, "maximum": 9}}, "required": ["answer", "score"], "additionalProperties": false}""").RootElement;
        for (int seed = 0; seed < 4; seed++)
        {
            var response = await _client.GetResponseAsync("Is the sky blue?", new ChatOptions { Temperature = 1, Seed = seed, MaxOutputTokens = 100, ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "verdict") });
            Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
            using var doc = JsonDocument.Parse(response.Text);
            Assert.Contains(doc.RootElement.GetProperty("answer").GetString(), new[] { "yes", "no" });
            Assert.InRange(doc.RootElement.GetProperty("score").GetInt32(), 0, 9);
        }
        var anyJson = await _client.GetResponseAsync("Tell me a story", new ChatOptions { Temperature = 0, MaxOutputTokens = 200, ResponseFormat = ChatResponseFormat.Json });
        Assert.StartsWith("{", anyJson.Text);

        // Microsoft.Extensions.AI's typed results: the schema comes from the type, the reply deserializes into it.
        var typed = await _client.GetResponseAsync<Pet>("Describe a pet.", new ChatOptions { Temperature = 0, MaxOutputTokens = 200 });
        Assert.True(typed.TryGetResult(out var pet), typed.Text);
        Assert.NotNull(pet!.Name);
    }

    [Description("Adds two integers")]
    private static int AddNumbers([Description("the first")] int a, [Description("the second")] int b) => a + b;

    [Fact]
    public async Task TheFunctionInvocationLoopRunsOverALocalModel()
    {
        using var templated = EstuaryChatClient.Load(EmbeddedModel, new EngineConfig { NumThreads = 1, NumKvBlocks = 128 }, chatTemplate: ToolTemplate);
        var seen = new List<List<AiChatMessage>>();
        int invocations = 0;
        var add = AIFunctionFactory.Create((int a, int b) => { invocations++; return AddNumbers(a, b); }, "add", "Adds two integers");
        using var client = new ChatClientBuilder(templated)
            .UseFunctionInvocation()
            .Use((messages, options, next, ct) => { seen.Add([.. messages]); return next(messages, options, ct); }) // inside the loop: sees each round
            .Build();
        // RequireAny forces a call on the first round; FunctionInvokingChatClient then goes on with the tool mode unset
        // ("auto"), and the story model answers in text.
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 60, Tools = [add], ToolMode = ChatToolMode.RequireAny, AllowMultipleToolCalls = false };
        ChatResponse response = await client.GetResponseAsync("What is 2 + 3?", options);

        Assert.Equal(1, invocations);
        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("add", call.Name);
        var result = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>());
        Assert.Equal(call.CallId, result.CallId);
        int a = ((JsonElement)call.Arguments!["a"]!).GetInt32(), b = ((JsonElement)call.Arguments["b"]!).GetInt32();
        Assert.Equal(a + b, result.Result is JsonElement e ? e.GetInt32() : Convert.ToInt32(result.Result, System.Globalization.CultureInfo.InvariantCulture));
        Assert.False(string.IsNullOrEmpty(response.Messages[^1].Text));
        Assert.Equal(2, seen.Count);

        // The second round's prompt shows the call and its result through the template.
        var format = (TemplateChatFormat)ChatFormats.ForModel(EmbeddedModel, templated.Engine.Engine.Tokenizer, chatTemplate: ToolTemplate);
        var rendered = format.Render(ChatMessageConversion.ToTurns(seen[1], null), toolsJson: """[{"type":"function","function":{"name":"add"}}]""");
        Assert.Contains($"CALLS: add{{\"a\": {a}, \"b\": {b}}}", rendered);
        Assert.Contains($"RESULT {call.CallId}: {a + b}\n", rendered);
        Assert.EndsWith("ASSISTANT:", rendered);
    }

    [Fact]
    public async Task TheFunctionInvocationLoopRunsOverABuiltInFormat()
    {
        // stories260K's built-in Llama 2 format has no tool turns: the tools, the call and its result reach it as text.
        int invocations = 0;
        var add = AIFunctionFactory.Create((int a, int b) => { invocations++; return a + b; }, "add", "Adds two integers");
        var seen = new List<List<AiChatMessage>>();
        using var client = new ChatClientBuilder(_client)
            .UseFunctionInvocation()
            .Use((messages, options, next, ct) => { seen.Add([.. messages]); return next(messages, options, ct); })
            .Build();
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 60, Tools = [add], ToolMode = ChatToolMode.RequireAny, AllowMultipleToolCalls = false };
        ChatResponse response = await client.GetResponseAsync("What is 2 + 3?", options);
        Assert.Equal(1, invocations);
        Assert.Equal(2, seen.Count);
        Assert.False(string.IsNullOrEmpty(response.Messages[^1].Text));
        var turns = ToolConversation.AsPlainTurns(ChatMessageConversion.ToTurns(seen[1], null), "[]");
        Assert.Contains("Result of add (", turns[^1].Content);
    }

    [Fact]
    public async Task ATypedResultComesAfterTheFunctionLoop()
    {
        // GetResponseAsync<T> with tools: the first round must call; the next (auto) replies with calls or a Pet, never free
        // text. "{" is favoured so that the story model answers rather than calling again.
        using var templated = EstuaryChatClient.Load(EmbeddedModel, new EngineConfig { NumThreads = 1, NumKvBlocks = 128 }, chatTemplate: ToolTemplate);
        var tokenizer = templated.Engine.Engine.Tokenizer;
        int brace = Enumerable.Range(0, tokenizer.VocabSize).First(id => tokenizer.TokenBytes(id) is [(byte)'{']);
        int invocations = 0;
        var add = AIFunctionFactory.Create((int a, int b) => { invocations++; return a + b; }, "add");
        using var client = new ChatClientBuilder(templated).UseFunctionInvocation().Build();
        var options = new ChatOptions
        {
            Temperature = 0, MaxOutputTokens = 200, Tools = [add], ToolMode = ChatToolMode.RequireAny, AllowMultipleToolCalls = false,
            AdditionalProperties = new() { ["logit_bias"] = new Dictionary<int, float> { [brace] = 100 } },
        };
        ChatResponse<Forecast> response = await client.GetResponseAsync<Forecast>("Will it rain after 2 + 3 days?", options);
        Assert.Equal(1, invocations);
        Assert.True(response.TryGetResult(out var forecast), response.Text);
        Assert.True(Enum.IsDefined(forecast!.Kind));
    }

    [Fact]
    public async Task ANamedFunctionsArgumentsAreTheReplyAndStreamedCallsComeWhole()
    {
        var add = AIFunctionFactory.Create(AddNumbers, "add");
        var options = new ChatOptions { Temperature = 1, Seed = 2, MaxOutputTokens = 60, Tools = [add], ToolMode = ChatToolMode.RequireSpecific("add") };
        var response = await _client.GetResponseAsync("2 + 3?", options);
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("add", call.Name);
        Assert.Equal(["a", "b"], call.Arguments!.Keys.Order());
        Assert.Equal("", response.Text);

        var streamed = new List<FunctionCallContent>();
        await foreach (var update in _client.GetStreamingResponseAsync("2 + 3?", options))
        {
            Assert.Equal("", update.Text);
            streamed.AddRange(update.Contents.OfType<FunctionCallContent>());
        }
        var again = Assert.Single(streamed);
        Assert.Equal(JsonSerializer.Serialize(call.Arguments), JsonSerializer.Serialize(again.Arguments));
    }

    [Fact]
    public async Task AutoAnswersInTextOrCallsWhenTheReplyOpensAnArray()
    {
        var add = AIFunctionFactory.Create(AddNumbers, "add");
        var tokenizer = _client.Engine.Engine.Tokenizer;
        int bracket = Enumerable.Range(0, tokenizer.VocabSize).First(id => tokenizer.TokenBytes(id) is [(byte)'[']);
        // Auto's text branch is free: the reply equals that of ToolMode None (the same prompt, with the tools described).
        var text = await _client.GetResponseAsync("Tell me a story", new ChatOptions { Temperature = 0, MaxOutputTokens = 30, Tools = [add] });
        var none = await _client.GetResponseAsync("Tell me a story", new ChatOptions { Temperature = 0, MaxOutputTokens = 30, Tools = [add], ToolMode = ChatToolMode.None });
        Assert.Equal(none.Text, text.Text);
        Assert.NotEqual(await EngineGreedyAsync("Tell me a story", 30), text.Text); // the tools' description changed the prompt
        Assert.Empty(text.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());

        var biased = new ChatOptions
        {
            Temperature = 0, MaxOutputTokens = 80, Tools = [add], AllowMultipleToolCalls = false,
            AdditionalProperties = new() { ["logit_bias"] = new Dictionary<int, float> { [bracket] = 100 } },
        };
        var calls = await _client.GetResponseAsync("Tell me a story", biased);
        Assert.Equal(ChatFinishReason.ToolCalls, calls.FinishReason);
        Assert.Equal("add", Assert.Single(calls.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>()).Name);
        Assert.Equal("", calls.Text);
    }

    [Fact]
    public async Task ACancelledReplyFreesItsBlocks()
    {
        using var cts = new CancellationTokenSource();
        int updates = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in _client.GetStreamingResponseAsync("Tell me a story", new ChatOptions { MaxOutputTokens = 400, AdditionalProperties = new() { ["ignore_eos"] = true } }, cts.Token))
                if (++updates == 3) await cts.CancelAsync();
        });
        await AssertAllBlocksFreeAsync();
    }

    [Fact]
    public void BadInputIsAnExceptionNamingTheProblem()
    {
        var image = new AiChatMessage(ChatRole.User, [new DataContent(new byte[] { 1, 2, 3 }, "image/png")]);
        Assert.Contains("DataContent", Assert.Throws<ArgumentException>(() => _client.GetStreamingResponseAsync([image])).Message);
        Assert.Contains("ConversationId", Assert.Throws<NotSupportedException>(() => _client.GetStreamingResponseAsync("hi", new ChatOptions { ConversationId = "c1" })).Message);
        Assert.Contains("ModelId", Assert.Throws<ArgumentException>(() => _client.GetStreamingResponseAsync("hi", new ChatOptions { ModelId = "gpt-4" })).Message);
        Assert.Contains("not a function", Assert.Throws<NotSupportedException>(() => _client.GetStreamingResponseAsync("hi", new ChatOptions { Tools = [new HostedWebSearchTool()] })).Message);
        var add = AIFunctionFactory.Create(AddNumbers, "add");
        Assert.Contains("'sub'", Assert.Throws<ArgumentException>(() => _client.GetStreamingResponseAsync("hi", new ChatOptions { Tools = [add], ToolMode = ChatToolMode.RequireSpecific("sub") })).Message);
        Assert.Contains("mixes function results", Assert.Throws<ArgumentException>(() => _client.GetStreamingResponseAsync(
            [new AiChatMessage(ChatRole.User, "2+3?"), new AiChatMessage(ChatRole.Assistant, [new FunctionCallContent("c1", "add", new Dictionary<string, object?> { ["a"] = 2 })]),
             new AiChatMessage(ChatRole.Tool, [new FunctionResultContent("c1", 5), new TextContent("and more")])])).Message);
        Assert.Contains("temperature", Assert.Throws<ArgumentException>(() => _client.GetStreamingResponseAsync("hi", new ChatOptions { Temperature = -1 })).Message);
        Assert.Contains("min_p", Assert.Throws<ArgumentException>(() => _client.GetStreamingResponseAsync("hi", new ChatOptions { AdditionalProperties = new() { ["min_p"] = "lots" } })).Message);
    }

    [Fact]
    public void AToolPromptReachesTheBuiltInFormatsSystemMessage()
    {
        var add = AIFunctionFactory.Create(AddNumbers, "add", "Adds two integers");
        var engine = _client.Engine.Engine;
        var format = ChatFormats.ForModel(EmbeddedModel, engine.Tokenizer);
        ChatRequest Build(ChatOptions options) => ChatRequest.Build(engine, format, "stories260k", [new AiChatMessage(ChatRole.User, "2+3?")], options);
        var plain = engine.Tokenizer.Decode(Build(new ChatOptions { Tools = [add] }).PromptIds);
        var custom = engine.Tokenizer.Decode(Build(new ChatOptions { Tools = [add], AdditionalProperties = new() { ["tool_prompt"] = "Use the functions below." } }).PromptIds);
        Assert.Contains(ToolConversation.Instructions, plain);
        Assert.Contains("Use the functions below.\n- add(a: integer, b: integer): Adds two integers", custom);
        Assert.DoesNotContain(ToolConversation.Instructions, custom);
    }

    [Fact]
    public void MetadataAndServicesAreExposed()
    {
        var metadata = _client.GetService<ChatClientMetadata>()!;
        Assert.Equal("estuary", metadata.ProviderName);
        Assert.Equal("stories260k", metadata.DefaultModelId);
        Assert.Same(_client.Engine, _client.GetService<AsyncLlmEngine>());
        Assert.Same(_client, _client.GetService<EstuaryChatClient>());
    }
}
