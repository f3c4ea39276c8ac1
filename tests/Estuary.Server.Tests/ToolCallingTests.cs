// OpenAI function calling through the official SDK: a named function's arguments satisfy its parameter schema, "required"
// returns calls of the listed tools (exactly one with parallel_tool_calls false), "auto" answers in text exactly as without
// tools or makes valid calls when the reply begins with "[", streaming pieces add up to the whole reply, tool turns go back
// into the conversation, and what cannot be honoured (tool turns in a built-in format) is a 400.
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK
using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ToolCallingTests(ServerFixture fx)
{
    private static readonly ChatTool Weather = ChatTool.CreateFunctionTool("get_weather", "The weather in a city", BinaryData.FromString("""
        {"type": "object", "properties": {"city": {"type": "string", "maxLength": 15}, "days": {"type": "integer", "minimum": 1, "maximum": 7},
         "unit": {"enum": ["celsius", "fahrenheit"]}}, "required": ["city", "days"]}
        """));

    private static readonly ChatTool Add = ChatTool.CreateFunctionTool("add", "Adds two integers", BinaryData.FromString("""
        {"type": "object", "properties": {"a": {"type": "integer", "minimum": -99, "maximum": 99}, "b": {"type": "integer", "minimum": -99, "maximum": 99}}, "required": ["a", "b"]}
        """));

    private ChatClient Chat() => ServerFixture.OpenAiChat(fx.Client);

    private static ChatCompletionOptions Options(ChatToolChoice choice, int seed, bool? parallel = null)
    {
        // No max_tokens: the tools' description takes part of stories260K's 512-token context, and the engine caps the reply at the rest.
        var options = new ChatCompletionOptions { ToolChoice = choice, Temperature = 1.0f, Seed = seed, AllowParallelToolCalls = parallel };
        options.Tools.Add(Weather);
        options.Tools.Add(Add);
        return options;
    }

    private static void AssertValidCall(string name, string arguments)
    {
        using var doc = JsonDocument.Parse(arguments);
        var args = doc.RootElement;
        if (name == "get_weather")
        {
            Assert.True(args.GetProperty("city").GetString()!.Length <= 15, arguments);
            Assert.InRange(args.GetProperty("days").GetInt32(), 1, 7);
            if (args.TryGetProperty("unit", out var unit)) Assert.Contains(unit.GetString(), new[] { "celsius", "fahrenheit" });
            Assert.All(args.EnumerateObject(), p => Assert.Contains(p.Name, new[] { "city", "days", "unit" }));
        }
        else
        {
            Assert.Equal("add", name);
            Assert.InRange(args.GetProperty("a").GetInt32(), -99, 99);
            Assert.InRange(args.GetProperty("b").GetInt32(), -99, 99);
        }
    }

    [Fact]
    public async Task ANamedFunctionIsCalledWithArgumentsThatSatisfyItsSchema()
    {
        for (int seed = 0; seed < 4; seed++)
        {
            ChatCompletion c = await Chat().CompleteChatAsync([new UserChatMessage("What is the weather in Paris?")],
                Options(ChatToolChoice.CreateFunctionChoice("get_weather"), seed));
            Assert.Equal(ChatFinishReason.Stop, c.FinishReason); // as OpenAI reports a forced call
            var call = Assert.Single(c.ToolCalls);
            Assert.Equal("get_weather", call.FunctionName);
            Assert.StartsWith("call_", call.Id);
            AssertValidCall(call.FunctionName, call.FunctionArguments.ToString());
            Assert.Empty(c.Content);
        }
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task RequiredWithoutParallelCallsMakesExactlyOneValidCall()
    {
        var names = new HashSet<string>();
        for (int seed = 0; seed < 8; seed++)
        {
            ChatCompletion c = await Chat().CompleteChatAsync([new UserChatMessage("Weather in Rome, and 2+2?")],
                Options(ChatToolChoice.CreateRequiredChoice(), seed, parallel: false));
            Assert.Equal(ChatFinishReason.ToolCalls, c.FinishReason);
            var call = Assert.Single(c.ToolCalls);
            names.Add(call.FunctionName);
            AssertValidCall(call.FunctionName, call.FunctionArguments.ToString());
        }
        Assert.Equal(2, names.Count); // both tools are reachable
    }

    [Fact]
    public async Task RequiredWithParallelCallsMakesValidCallsOrIsCutAsTextThatStartsTheArray()
    {
        // The story model rarely closes an open-ended array of calls within max_tokens; a cut array comes back as text.
        for (int seed = 0; seed < 4; seed++)
        {
            ChatCompletion c = await Chat().CompleteChatAsync([new UserChatMessage("Weather in Rome, and 2+2?")], Options(ChatToolChoice.CreateRequiredChoice(), seed));
            if (c.FinishReason == ChatFinishReason.ToolCalls)
            {
                Assert.NotEmpty(c.ToolCalls);
                foreach (var call in c.ToolCalls) AssertValidCall(call.FunctionName, call.FunctionArguments.ToString());
            }
            else
            {
                Assert.Equal(ChatFinishReason.Length, c.FinishReason);
                Assert.Empty(c.ToolCalls);
                var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(c.Content[0].Text), isFinalBlock: false, state: default);
                while (reader.Read()) { }
                Assert.StartsWith("[", c.Content[0].Text);
            }
        }
    }

    // The token of "[" alone, which the tests favour to make "auto" replies calls.
    private int BracketToken()
    {
        var tokenizer = fx.Stories.Engine.Tokenizer;
        return Enumerable.Range(0, tokenizer.VocabSize).First(id => tokenizer.TokenBytes(id) is [(byte)'[']);
    }

    [Fact]
    public async Task AutoAnswersInTextExactlyAsWithoutTools()
    {
        // The text branch of "auto" is free: greedy replies equal those of tool_choice "none" (the same prompt, with the
        // tools described, as vLLM renders them for "none" too; no constraint).
        foreach (var prompt in new[] { "Tell me a story", "Who was Lily?", "2+2?" })
        {
            var withTools = Options(ChatToolChoice.CreateAutoChoice(), 0);
            withTools.Temperature = 0;
            withTools.MaxOutputTokenCount = 40;
            ChatCompletion auto = await Chat().CompleteChatAsync([new UserChatMessage(prompt)], withTools);
            var none = Options(ChatToolChoice.CreateNoneChoice(), 0);
            none.Temperature = 0;
            none.MaxOutputTokenCount = 40;
            ChatCompletion plain = await Chat().CompleteChatAsync([new UserChatMessage(prompt)], none);
            Assert.Empty(plain.ToolCalls);
            Assert.Empty(auto.ToolCalls);
            Assert.Equal(plain.Content[0].Text, auto.Content[0].Text);
            Assert.Equal(plain.FinishReason, auto.FinishReason);
            Assert.False(Engine.Tools.ToolCalls.IsCallsReply(auto.Content[0].Text));
        }
        // No tool_choice with tools is "auto" too.
        var implicitAuto = Options(ChatToolChoice.CreateAutoChoice(), 0);
        implicitAuto.ToolChoice = null;
        implicitAuto.MaxOutputTokenCount = 12;
        ChatCompletion c = await Chat().CompleteChatAsync([new UserChatMessage("Tell me a story")], implicitAuto);
        Assert.Empty(c.ToolCalls);
        Assert.NotEmpty(c.Content[0].Text);
    }

    [Fact]
    public async Task AutoMakesValidCallsWhenTheReplyBeginsAsAnArray()
    {
        var names = new HashSet<string>();
        for (int seed = 0; seed < 6; seed++)
        {
            var options = Options(ChatToolChoice.CreateAutoChoice(), seed, parallel: false);
            options.LogitBiases[BracketToken()] = 100; // the story model never opens with "[" by itself
            ChatCompletion c = await Chat().CompleteChatAsync([new UserChatMessage("Weather in Rome, and 2+2?")], options);
            Assert.Equal(ChatFinishReason.ToolCalls, c.FinishReason);
            var call = Assert.Single(c.ToolCalls);
            names.Add(call.FunctionName);
            AssertValidCall(call.FunctionName, call.FunctionArguments.ToString());
            Assert.Empty(c.Content);
        }
        Assert.Equal(2, names.Count);
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task AutoTakesOneCallWrittenAsABareObject()
    {
        // Llama 3.x chat templates ask for {"name": …, "parameters": {…}}: under "auto" that is a call too, streamed or not.
        var tokenizer = fx.Stories.Engine.Tokenizer;
        int brace = Enumerable.Range(0, tokenizer.VocabSize).First(id => tokenizer.TokenBytes(id) is [(byte)'{']);
        for (int seed = 0; seed < 3; seed++)
        {
            var options = Options(ChatToolChoice.CreateAutoChoice(), seed);
            options.LogitBiases[brace] = 100;
            ChatCompletion c = await Chat().CompleteChatAsync([new UserChatMessage("2+2?")], options);
            Assert.Equal(ChatFinishReason.ToolCalls, c.FinishReason);
            var call = Assert.Single(c.ToolCalls);
            AssertValidCall(call.FunctionName, call.FunctionArguments.ToString());
            var arguments = new StringBuilder();
            string? name = null;
            ChatFinishReason? reason = null;
            await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("2+2?")], options))
            {
                foreach (var part in update.ToolCallUpdates)
                {
                    Assert.Equal(0, part.Index);
                    name ??= part.FunctionName;
                    arguments.Append(part.FunctionArgumentsUpdate?.ToString());
                }
                reason ??= update.FinishReason;
            }
            Assert.Equal((call.FunctionName, call.FunctionArguments.ToString(), ChatFinishReason.ToolCalls), (name, arguments.ToString(), reason));
        }
    }

    [Fact]
    public async Task AutoWithAResponseFormatRepliesWithCallsOrAnAnswerValidAgainstIt()
    {
        for (int seed = 0; seed < 8; seed++)
        {
            var options = Options(ChatToolChoice.CreateAutoChoice(), seed, parallel: false);
            options.ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("verdict", BinaryData.FromString(
                """{"type": "object", "properties": {"answer": {"enum": ["yes", "no"]}}, "required": ["answer"], "additionalProperties": false}"""));
            ChatCompletion c = await Chat().CompleteChatAsync([new UserChatMessage("Is it sunny in Rome?")], options);
            if (c.FinishReason == ChatFinishReason.ToolCalls)
            {
                AssertValidCall(Assert.Single(c.ToolCalls).FunctionName, c.ToolCalls[0].FunctionArguments.ToString());
                continue;
            }
            Assert.Equal(ChatFinishReason.Stop, c.FinishReason);
            using var doc = JsonDocument.Parse(c.Content[0].Text);
            Assert.Contains(doc.RootElement.GetProperty("answer").GetString(), new[] { "yes", "no" });
        }
    }

    [Fact]
    public async Task StreamedAutoTextAddsUpToTheWholeAnswer()
    {
        var options = Options(ChatToolChoice.CreateAutoChoice(), 5);
        options.MaxOutputTokenCount = 30;
        ChatCompletion whole = await Chat().CompleteChatAsync([new UserChatMessage("Tell me a story")], options);
        var text = new StringBuilder();
        ChatFinishReason? reason = null;
        await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("Tell me a story")], options))
        {
            Assert.Empty(update.ToolCallUpdates);
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            reason ??= update.FinishReason;
        }
        Assert.Equal(whole.Content[0].Text, text.ToString());
        Assert.Equal(whole.FinishReason, reason);
    }

    [Fact]
    public async Task StreamedCallsAddUpToTheWholeCall()
    {
        foreach (var (choice, auto) in new[] { (ChatToolChoice.CreateFunctionChoice("add"), false), (ChatToolChoice.CreateRequiredChoice(), false), (ChatToolChoice.CreateAutoChoice(), true) })
        {
            var options = Options(choice, seed: 11, parallel: false);
            if (auto) options.LogitBiases[BracketToken()] = 100;
            ChatCompletion whole = await Chat().CompleteChatAsync([new UserChatMessage("2+2?")], options);
            var arguments = new Dictionary<int, StringBuilder>();
            var names = new Dictionary<int, string>();
            ChatFinishReason? reason = null;
            await foreach (var update in Chat().CompleteChatStreamingAsync([new UserChatMessage("2+2?")], options))
            {
                foreach (var part in update.ToolCallUpdates)
                {
                    if (part.FunctionName is { } n) names[part.Index] = n;
                    (arguments.TryGetValue(part.Index, out var sb) ? sb : arguments[part.Index] = new StringBuilder()).Append(part.FunctionArgumentsUpdate?.ToString());
                }
                reason ??= update.FinishReason;
            }
            Assert.Equal(whole.FinishReason, reason);
            Assert.NotEmpty(whole.ToolCalls);
            Assert.Equal(whole.ToolCalls.Count, names.Count);
            for (int i = 0; i < whole.ToolCalls.Count; i++)
            {
                Assert.Equal(whole.ToolCalls[i].FunctionName, names[i]);
                Assert.Equal(whole.ToolCalls[i].FunctionArguments.ToString(), arguments[i].ToString());
            }
        }
    }

    [Fact]
    public async Task ToolTurnsGoBackToABuiltInFormatAsText()
    {
        // stories260K has no chat template: its built-in Llama 2 format gets the tools and the tool turns written as text.
        const string tools = """[{"type":"function","function":{"name":"add","description":"Adds","parameters":{"type":"object","properties":{"a":{"type":"integer"}}}}}]""";
        const string messages = """[{"role":"user","content":"2+2?"},{"role":"assistant","content":null,"tool_calls":[{"id":"call_7","type":"function","function":{"name":"add","arguments":"{\"a\":2}"}}]},{"role":"tool","tool_call_id":"call_7","content":"4"}]""";
        // The prompt's length as the server counted it, for a request with these messages and tools plus `extra` fields.
        async Task<int> PromptTokens(HttpClient client, string extra)
        {
            using var response = await client.PostAsync("/v1/chat/completions", new StringContent(
                $$"""{"messages":{{messages}},"tools":{{tools}},"max_tokens":5{{extra}}}""", Encoding.UTF8, "application/json"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        }
        var format = Tokenization.ChatFormats.ForModel(ServerFixture.EmbeddedModel, fx.Stories.Engine.Tokenizer);
        Tokenization.ChatMessage[] history =
        [
            new("user", "2+2?"),
            new("assistant", "") { ToolCalls = [new Tokenization.ChatToolCall("call_7", "add", "{\"a\":2}")] },
            new("tool", "4") { ToolCallId = "call_7" },
        ];
        var expected = format.BuildPrompt(Tokenization.ToolConversation.AsPlainTurns(history, tools), 5);
        Assert.Equal(expected.Length, await PromptTokens(fx.Client, ""));

        // TGI's tool_prompt replaces the instructions before the tools.
        const string toolPrompt = "Functions below. Reply with a JSON array of calls to use them.";
        var customExpected = format.BuildPrompt(Tokenization.ToolConversation.AsPlainTurns(history, tools, toolPrompt), 5);
        Assert.NotEqual(expected.Length, customExpected.Length);
        Assert.Equal(customExpected.Length, await PromptTokens(fx.Client, $$""","tool_prompt":"{{toolPrompt}}" """.TrimEnd()));
        // The server's --tool-prompt is the default a request's tool_prompt overrides.
        var withDefault = await fx.StartAsync(fx.Stories, new ServerOptions { ServedModelName = "stories260k", ToolPrompt = toolPrompt });
        Assert.Equal(customExpected.Length, await PromptTokens(withDefault, ""));
        Assert.Equal(expected.Length, await PromptTokens(withDefault, $$""","tool_prompt":"{{Tokenization.ToolConversation.Instructions.Replace("\"", "\\\"")}}" """.TrimEnd()));
    }

    [Theory]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":\"sometimes\"}", "tool_choice")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"not\":{}}}}]}", "tools")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"g\"}}}", "tool_choice")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tool_choice\":\"required\"}", "tool_choice")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f g\"}}],\"tool_choice\":\"required\"}", "tools")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"retrieval\"}],\"tool_choice\":\"required\"}", "tools")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"not\":{}}}}],\"tool_choice\":\"required\"}", "tools")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":\"required\",\"guided_regex\":\"a\"}", "guided_regex")]
    [InlineData("{\"messages\":[{\"role\":\"tool\",\"content\":\"4\"}]}", "messages[0].tool_call_id")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\",\"tool_calls\":[{\"id\":\"x\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}]}", "messages[0].tool_calls")]
    [InlineData("{\"prompt\":\"hi\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}", "tools")]
    public async Task BadToolRequestsAre400NamingTheField(string body, string param)
    {
        var path = body.StartsWith("{\"prompt\"", StringComparison.Ordinal) ? "/v1/completions" : "/v1/chat/completions";
        using var response = await fx.Client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        using var doc = JsonDocument.Parse(text);
        Assert.Equal(param, doc.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task ToolChoiceNoneIgnoresTheTools()
    {
        var options = Options(ChatToolChoice.CreateNoneChoice(), 1);
        options.MaxOutputTokenCount = 8;
        ChatCompletion c = await Chat().CompleteChatAsync([new UserChatMessage("Tell me a story")], options);
        Assert.Empty(c.ToolCalls);
        Assert.False(string.IsNullOrEmpty(c.Content[0].Text));
    }
}
