// The OpenAI API through the official OpenAI .NET SDK (chat, streamed and not, models) and raw HTTP (legacy completions, errors).
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK
using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class OpenAiApiTests(ServerFixture fx)
{
    private static OpenAIClientOptions Options(HttpClient client) => ServerFixture.OpenAiOptions(client);

    private static ChatClient Chat(HttpClient client, string model) => ServerFixture.OpenAiChat(client, model);

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Fact]
    public async Task TextPartsOfAMessageAreJoinedWithANewlineAsVllmJoinsThem()
    {
        async Task<string> Tokens(string content) =>
            await (await fx.Client.PostAsync("/tokenize", Json($"{{\"messages\":[{{\"role\":\"user\",\"content\":{content}}}]}}"))).Content.ReadAsStringAsync();
        var parts = await Tokens("[{\"type\":\"text\",\"text\":\"Tell me\"},{\"type\":\"text\",\"text\":\"a story\"}]");
        Assert.Equal(await Tokens("\"Tell me\\na story\""), parts);
        Assert.NotEqual(await Tokens("\"Tell mea story\""), parts);
    }

    [Fact]
    public async Task SdkChatCompletionReportsTextUsageAndLength()
    {
        var chat = Chat(fx.Client, "stories260k");
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Tell me a story")],
            new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0 });
        Assert.False(string.IsNullOrEmpty(completion.Content[0].Text));
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(12, completion.Usage.OutputTokenCount);
        Assert.True(completion.Usage.InputTokenCount > 4);
        Assert.Equal(completion.Usage.InputTokenCount + 12, completion.Usage.TotalTokenCount);
        Assert.Equal("stories260k", completion.Model);
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task SdkStreamedChatEqualsNonStreamedForTheSameSeed()
    {
        var chat = Chat(fx.Client, "stories260k");
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 40, Temperature = 0.9f, Seed = 1234 };
        ChatCompletion whole = await chat.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("Once upon a time")], options);
        var streamed = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? reason = null;
        int updates = 0;
        await foreach (var update in chat.CompleteChatStreamingAsync([new SystemChatMessage("Be brief."), new UserChatMessage("Once upon a time")], options))
        {
            updates++;
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            usage ??= update.Usage;
            reason ??= update.FinishReason;
        }
        Assert.Equal(whole.Content[0].Text, streamed.ToString());
        Assert.True(updates > 3);
        Assert.Equal(whole.FinishReason, reason);
        Assert.NotNull(usage); // the SDK asks for stream_options.include_usage
        Assert.Equal(whole.Usage.OutputTokenCount, usage!.OutputTokenCount);
    }

    [Fact]
    public async Task SdkChatWorksInChineseOnBaichuan2()
    {
        var chat = Chat(fx.BaichuanClient, "baichuan2-tiny");
        ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("你是谁?")],
            new ChatCompletionOptions { MaxOutputTokenCount = 16, Temperature = 0.3f, Seed = 5 });
        Assert.True(completion.Usage.OutputTokenCount is > 0 and <= 16);
        Assert.NotNull(completion.Content[0].Text);
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Baichuan);
    }

    [Fact]
    public async Task SdkListsTheServedModelAndRejectsUnknownOnes()
    {
        var models = new OpenAIModelClient(new ApiKeyCredential("unused"), Options(fx.Client));
        OpenAIModelCollection list = await models.GetModelsAsync();
        Assert.Equal("stories260k", Assert.Single(list).Id);
        var e = await Assert.ThrowsAsync<ClientResultException>(() => Chat(fx.Client, "gpt-4o").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(404, e.Status);
    }

    [Fact]
    public async Task CompletionsAcceptStringListAndTokenIdPrompts()
    {
        using var one = await fx.Client.PostAsync("/v1/completions", Json("{\"model\":\"stories260k\",\"prompt\":\"Once upon a time\",\"max_tokens\":8,\"temperature\":0}"));
        using var oneDoc = JsonDocument.Parse(await one.Content.ReadAsStringAsync());
        var text = oneDoc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString();
        Assert.Equal("text_completion", oneDoc.RootElement.GetProperty("object").GetString());
        Assert.Equal(8, oneDoc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal("length", oneDoc.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());

        var ids = fx.Stories.Engine.Tokenizer.Encode("Once upon a time");
        using var byIds = await fx.Client.PostAsync("/v1/completions", Json($"{{\"prompt\":[{string.Join(',', ids)}],\"max_tokens\":8,\"temperature\":0}}"));
        using var idsDoc = JsonDocument.Parse(await byIds.Content.ReadAsStringAsync());
        Assert.Equal(text, idsDoc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());

        using var many = await fx.Client.PostAsync("/v1/completions", Json("{\"prompt\":[\"Once upon a time\",\"The cat\"],\"max_tokens\":8,\"temperature\":0,\"n\":2}"));
        using var manyDoc = JsonDocument.Parse(await many.Content.ReadAsStringAsync());
        var choices = manyDoc.RootElement.GetProperty("choices");
        Assert.Equal(4, choices.GetArrayLength());
        Assert.Equal(text, choices[0].GetProperty("text").GetString());
        Assert.Equal(text, choices[1].GetProperty("text").GetString()); // greedy: both choices of prompt 0 agree
        Assert.Equal(32, manyDoc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task CompletionsStopStringsLogprobsAndSeededChoices()
    {
        using var response = await fx.Client.PostAsync("/v1/completions", Json(
            "{\"prompt\":\"Once upon a time\",\"max_tokens\":30,\"temperature\":1,\"seed\":3,\"n\":2,\"logprobs\":2,\"stop\":[\".\"],\"user\":\"u1\",\"frobnicate\":true}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        foreach (var choice in doc.RootElement.GetProperty("choices").EnumerateArray())
        {
            Assert.DoesNotContain(".", choice.GetProperty("text").GetString());
            var lp = choice.GetProperty("logprobs");
            Assert.Equal(lp.GetProperty("tokens").GetArrayLength(), lp.GetProperty("token_logprobs").GetArrayLength());
            Assert.All(lp.GetProperty("token_logprobs").EnumerateArray(), x => Assert.True(x.GetSingle() <= 0));
            Assert.All(lp.GetProperty("top_logprobs").EnumerateArray(), x => Assert.Equal(2, x.EnumerateObject().Count()));
        }
        // Seeded: the same request again gives the same choices.
        using var again = await fx.Client.PostAsync("/v1/completions", Json(
            "{\"prompt\":\"Once upon a time\",\"max_tokens\":30,\"temperature\":1,\"seed\":3,\"n\":2,\"logprobs\":2,\"stop\":[\".\"]}"));
        using var doc2 = JsonDocument.Parse(await again.Content.ReadAsStringAsync());
        for (int i = 0; i < 2; i++)
            Assert.Equal(doc.RootElement.GetProperty("choices")[i].GetProperty("text").GetString(), doc2.RootElement.GetProperty("choices")[i].GetProperty("text").GetString());
    }

    [Fact]
    public async Task StreamedCompletionsEndWithDoneAndUsage()
    {
        const string body = "{\"prompt\":\"The dog\",\"max_tokens\":20,\"temperature\":0.7,\"seed\":9}";
        using var whole = await fx.Client.PostAsync("/v1/completions", Json(body));
        using var wholeDoc = JsonDocument.Parse(await whole.Content.ReadAsStringAsync());
        var events = await Sse.ReadAsync(fx.Client, "/v1/completions", body.TrimEnd('}') + ",\"stream\":true,\"stream_options\":{\"include_usage\":true}}");
        Assert.Equal("[DONE]", events[^1]);
        var text = new StringBuilder();
        JsonElement? usage = null;
        foreach (var e in events.SkipLast(1))
        {
            using var doc = JsonDocument.Parse(e);
            foreach (var c in doc.RootElement.GetProperty("choices").EnumerateArray()) text.Append(c.GetProperty("text").GetString());
            if (doc.RootElement.GetProperty("usage").ValueKind == JsonValueKind.Object) usage = doc.RootElement.GetProperty("usage").Clone();
        }
        Assert.Equal(wholeDoc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString(), text.ToString());
        Assert.Equal(wholeDoc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), usage!.Value.GetProperty("completion_tokens").GetInt32());
    }

    [Theory]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":-1}", 400, "temperature")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"top_p\":0}", 400, "top_p")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"top_p\":1.5}", 400, "top_p")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":0}", 400, "max_tokens")]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":0}", 400, "max_tokens")]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"prompt_logprobs\":21}", 400, "prompt_logprobs")]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"prompt_logprobs\":1,\"stream\":true}", 400, "prompt_logprobs")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"prompt_logprobs\":1,\"stream\":true}", 400, "prompt_logprobs")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":100000}", 400, "max_tokens")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":\"ten\"}", 400, "max_tokens")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}", 400, "messages[0].role")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"tool\",\"content\":\"hi\"}]}", 400, "messages[0].tool_call_id")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"assistant\",\"content\":\"hi\"}]}", 400, "messages")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":0}", 400, "n")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop\":5}", 400, "stop")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"model\":\"nope\"}", 404, "model")]
    [InlineData("/v1/completions", "{\"prompt\":{\"a\":1}}", 400, "prompt")]
    [InlineData("/v1/completions", "{\"prompt\":[]}", 400, "prompt")]
    [InlineData("/v1/completions", "{\"prompt\":[1, 99999]}", 400, "prompt")]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"logprobs\":50}", 400, "logprobs")]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"seed\":\"x\"}", 400, "seed")]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",", 400, null)]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"logprobs\":true,\"top_logprobs\":25}", 400, "top_logprobs")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"logit_bias\":{\"50\":500}}", 400, "logit_bias")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"logit_bias\":{\"fifty\":5}}", 400, "logit_bias")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"logit_bias\":{\"50\":\"5\"}}", 400, "logit_bias")]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"logit_bias\":{\"99999\":5}}", 400, "logit_bias")]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"logit_bias\":[5]}", 400, "logit_bias")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":{\"type\":\"function\",\"function\":{\"name\":\"f\"}}}", 400, "tools")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"response_format\":{\"type\":\"grammar\"}}", 400, "response_format")]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"best_of\":3}", 400, "best_of")]
    [InlineData("/v1/completions", "{\"prompt\":\"def f(\",\"suffix\":\"return x\"}", 400, "suffix")]
    public async Task BadRequestsGetOpenAiErrorsNamingTheField(string path, string body, int status, string? param)
    {
        using var response = await fx.Client.PostAsync(path, Json(body));
        Assert.Equal(status, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = doc.RootElement.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
        Assert.True(error.TryGetProperty("code", out _));
        if (param is null) Assert.Equal(JsonValueKind.Null, error.GetProperty("param").ValueKind);
        else Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task SdkLogitBiasForcesATokenAndIsPerRequest()
    {
        var chat = Chat(fx.Client, "stories260k");
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 6, Temperature = 0, IncludeLogProbabilities = true };
        ChatCompletion plain = await chat.CompleteChatAsync([new UserChatMessage("Tell me a story")], options);
        options.LogitBiases[300] = 100;
        ChatCompletion forced = await chat.CompleteChatAsync([new UserChatMessage("Tell me a story")], options);
        var tokens = forced.ContentTokenLogProbabilities.Select(t => t.Token).ToList();
        Assert.Equal(6, tokens.Count);
        Assert.Single(tokens.Distinct());
        Assert.Equal(string.Concat(tokens), forced.Content[0].Text);
        Assert.NotEqual(plain.Content[0].Text, forced.Content[0].Text);
        options.LogitBiases.Clear();
        ChatCompletion again = await chat.CompleteChatAsync([new UserChatMessage("Tell me a story")], options);
        Assert.Equal(plain.Content[0].Text, again.Content[0].Text); // a bias does not outlive its request
    }

    [Fact]
    public async Task EchoWithLogprobsScoresThePromptAsLmEvaluationHarnessAsksIt()
    {
        // lm-evaluation-harness's loglikelihood request: token ids, echo, logprobs 1, max_tokens 1, temperature 0.
        var ids = fx.Stories.Engine.Tokenizer.Encode("Once upon a time, there was a little dog");
        var body = $"{{\"prompt\":[{string.Join(',', ids)}],\"echo\":true,\"logprobs\":1,\"max_tokens\":1,\"temperature\":0}}";
        using var response = await fx.Client.PostAsync("/v1/completions", Json(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var choice = doc.RootElement.GetProperty("choices")[0];
        var lp = choice.GetProperty("logprobs");
        var tokenLogprobs = lp.GetProperty("token_logprobs").EnumerateArray().ToList();
        var top = lp.GetProperty("top_logprobs").EnumerateArray().ToList();
        var offsets = lp.GetProperty("text_offset").EnumerateArray().Select(e => e.GetInt32()).ToList();
        Assert.Equal(ids.Length + 1, tokenLogprobs.Count);
        Assert.Equal(JsonValueKind.Null, tokenLogprobs[0].ValueKind);
        Assert.Equal(JsonValueKind.Null, top[0].ValueKind);
        Assert.Equal(offsets.Order(), offsets);
        Assert.StartsWith("Once upon a time, there was a little dog", choice.GetProperty("text").GetString());

        // The prompt's scores are the engine's own prompt log-probabilities, each ≤ its top-1 alternative.
        IReadOnlyList<Estuary.Engine.Sampling.SampleResult>? expected = null;
        await foreach (var o in fx.Stories.Generate(ids, Estuary.Engine.SamplingParams.Greedy(1) with { PromptLogprobs = 1 }))
            expected ??= o.PromptLogprobs;
        for (int k = 1; k < ids.Length; k++)
        {
            Assert.Equal(expected![k - 1].Logprob, tokenLogprobs[k].GetSingle(), 5);
            Assert.True(tokenLogprobs[k].GetSingle() <= top[k].EnumerateObject().Max(p => p.Value.GetSingle()) + 1e-6f);
        }
        // The generated token is greedy: its logprob is its position's best.
        Assert.Equal(top[^1].EnumerateObject().Max(p => p.Value.GetSingle()), tokenLogprobs[^1].GetSingle(), 5);

        // Streamed: the first event is the echo carrying the prompt's scores, the same numbers.
        var events = await Sse.ReadAsync(fx.Client, "/v1/completions", body[..^1] + ",\"stream\":true}");
        using var first = JsonDocument.Parse(events[0]);
        var streamedLp = first.RootElement.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("token_logprobs").EnumerateArray().ToList();
        Assert.Equal(ids.Length, streamedLp.Count);
        for (int k = 1; k < ids.Length; k++) Assert.Equal(tokenLogprobs[k].GetSingle(), streamedLp[k].GetSingle());

        // max_tokens 0 with echo: the prompt alone, with the same scores, nothing generated.
        var promptOnly = body.Replace("\"max_tokens\":1", "\"max_tokens\":0");
        using var only = await fx.Client.PostAsync("/v1/completions", Json(promptOnly));
        Assert.Equal(HttpStatusCode.OK, only.StatusCode);
        using var onlyDoc = JsonDocument.Parse(await only.Content.ReadAsStringAsync());
        var onlyChoice = onlyDoc.RootElement.GetProperty("choices")[0];
        Assert.Equal("Once upon a time, there was a little dog", onlyChoice.GetProperty("text").GetString());
        Assert.Equal("length", onlyChoice.GetProperty("finish_reason").GetString());
        Assert.Equal(0, onlyDoc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        var onlyLp = onlyChoice.GetProperty("logprobs").GetProperty("token_logprobs").EnumerateArray().ToList();
        Assert.Equal(ids.Length, onlyLp.Count);
        for (int k = 1; k < ids.Length; k++) Assert.Equal(tokenLogprobs[k].GetSingle(), onlyLp[k].GetSingle());
        var onlyEvents = await Sse.ReadAsync(fx.Client, "/v1/completions", promptOnly[..^1] + ",\"stream\":true}");
        Assert.Equal(3, onlyEvents.Count); // the echo with its scores, the finish, [DONE]
        Assert.Contains("\"finish_reason\":\"length\"", onlyEvents[1]);
        Assert.Contains("\"text\":\"\"", onlyEvents[1]);
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task SeveralChoicesShareThePromptsScoresComputedOnce()
    {
        // Only the first choice of each prompt scores it; every choice carries the same prompt entries, streamed or not.
        var tok = fx.Stories.Engine.Tokenizer;
        var prompts = new[] { "Once upon a time, there was a little dog", "The cat sat on the mat" };
        var ids = prompts.Select(p => tok.Encode(p)).ToArray();
        var one = new List<List<float?>>();
        foreach (var p in ids)
        {
            using var single = JsonDocument.Parse(await (await fx.Client.PostAsync("/v1/completions",
                Json($"{{\"prompt\":[{string.Join(',', p)}],\"echo\":true,\"logprobs\":1,\"max_tokens\":1,\"temperature\":0}}"))).Content.ReadAsStringAsync());
            one.Add([.. single.RootElement.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("token_logprobs").EnumerateArray()
                .Take(p.Length).Select(e => e.ValueKind == JsonValueKind.Null ? (float?)null : e.GetSingle())]);
        }
        var body = $"{{\"prompt\":[[{string.Join(',', ids[0])}],[{string.Join(',', ids[1])}]],\"echo\":true,\"logprobs\":1,\"prompt_logprobs\":1," +
            "\"max_tokens\":4,\"n\":3,\"temperature\":1,\"seed\":3}";
        using var response = await fx.Client.PostAsync("/v1/completions", Json(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var choices = doc.RootElement.GetProperty("choices").EnumerateArray().ToList();
        Assert.Equal(6, choices.Count);
        for (int c = 0; c < 6; c++)
        {
            var p = ids[c / 3];
            var lp = choices[c].GetProperty("logprobs");
            var scores = lp.GetProperty("token_logprobs").EnumerateArray().ToList();
            Assert.Equal(p.Length + 4, scores.Count);
            for (int k = 1; k < p.Length; k++) Assert.Equal(one[c / 3][k]!.Value, scores[k].GetSingle(), 5);
            var offsets = lp.GetProperty("text_offset").EnumerateArray().Select(e => e.GetInt32()).ToList();
            Assert.Equal(offsets.Order(), offsets);
            var vllm = choices[c].GetProperty("prompt_logprobs").EnumerateArray().ToList();
            Assert.Equal(p.Length, vllm.Count);
            Assert.Equal(one[c / 3][1]!.Value, vllm[1].GetProperty(p[1].ToString()).GetProperty("logprob").GetSingle(), 5);
        }

        // Streamed (prompt_logprobs is not available with stream): each choice's echo event carries the same scores.
        var events = await Sse.ReadAsync(fx.Client, "/v1/completions", body.Replace("\"prompt_logprobs\":1,", "")[..^1] + ",\"stream\":true}");
        var echoes = new Dictionary<int, List<JsonElement>>();
        var docs = new List<JsonDocument>();
        foreach (var e in events.Where(e => e != "[DONE]"))
        {
            var chunk = JsonDocument.Parse(e);
            docs.Add(chunk);
            foreach (var c in chunk.RootElement.GetProperty("choices").EnumerateArray())
            {
                int index = c.GetProperty("index").GetInt32();
                if (!echoes.ContainsKey(index) && c.GetProperty("text").GetString() == prompts[index / 3])
                    echoes[index] = [.. c.GetProperty("logprobs").GetProperty("token_logprobs").EnumerateArray()];
            }
        }
        Assert.Equal(6, echoes.Count);
        foreach (var (index, scores) in echoes)
            for (int k = 1; k < ids[index / 3].Length; k++) Assert.Equal(one[index / 3][k]!.Value, scores[k].GetSingle(), 5);
        foreach (var d in docs) d.Dispose();
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task VllmPromptLogprobsGiveEachPromptTokenItsScoreRankAndAlternatives()
    {
        var ids = fx.Stories.Engine.Tokenizer.Encode("Once upon a time, there was a little dog");
        var prompt = string.Join(',', ids);
        var legacyBody = $"{{\"prompt\":[{prompt}],\"echo\":true,\"logprobs\":1,\"max_tokens\":1,\"temperature\":0}}";
        using var legacy = JsonDocument.Parse(await (await fx.Client.PostAsync("/v1/completions", Json(legacyBody))).Content.ReadAsStringAsync());
        var legacyLp = legacy.RootElement.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("token_logprobs").EnumerateArray().ToList();
        Assert.False(legacy.RootElement.GetProperty("choices")[0].TryGetProperty("prompt_logprobs", out _)); // only when asked

        using var response = await fx.Client.PostAsync("/v1/completions", Json($"{{\"prompt\":[{prompt}],\"prompt_logprobs\":2,\"max_tokens\":2,\"temperature\":0}}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var entries = doc.RootElement.GetProperty("choices")[0].GetProperty("prompt_logprobs").EnumerateArray().ToList();
        Assert.Equal(ids.Length, entries.Count);
        Assert.Equal(JsonValueKind.Null, entries[0].ValueKind);
        for (int k = 1; k < ids.Length; k++)
        {
            var own = entries[k].GetProperty(ids[k].ToString());
            Assert.Equal(legacyLp[k].GetSingle(), own.GetProperty("logprob").GetSingle(), 5);
            int rank = own.GetProperty("rank").GetInt32();
            Assert.True(rank >= 1);
            var all = entries[k].EnumerateObject().ToList();
            Assert.InRange(all.Count, 2, 3); // the two best, and the prompt's own token when it is not among them
            var best = all.OrderByDescending(p => p.Value.GetProperty("logprob").GetSingle()).First().Value;
            Assert.Equal(1, best.GetProperty("rank").GetInt32());
            Assert.Equal(rank == 1, own.GetProperty("logprob").GetSingle() >= best.GetProperty("logprob").GetSingle());
            Assert.False(string.IsNullOrEmpty(own.GetProperty("decoded_token").GetString()));
        }

        // Chat: one top-level list for the prompt the chat format built, whatever n is.
        using var chat = await fx.Client.PostAsync("/v1/chat/completions",
            Json("{\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story\"}],\"prompt_logprobs\":0,\"max_tokens\":3,\"n\":2,\"seed\":1}"));
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        using var chatDoc = JsonDocument.Parse(await chat.Content.ReadAsStringAsync());
        Assert.Equal(chatDoc.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32() / 2,
            chatDoc.RootElement.GetProperty("prompt_logprobs").GetArrayLength());
        Assert.Equal(2, chatDoc.RootElement.GetProperty("choices").GetArrayLength());
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task UnsupportedFieldsInTheirNeutralFormAreAccepted()
    {
        // What SDKs send when the feature is not used must still work: empty logit_bias, text format, no tools, best_of = n.
        var body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2,\"logit_bias\":{},\"tools\":[]," +
            "\"response_format\":{\"type\":\"text\"},\"best_of\":1}";
        using var response = await fx.Client.PostAsync("/v1/chat/completions", Json(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("/v1/chat/completions", "{\"messages\":5}", "'messages' must be an array")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":\"ten\"}", "'max_tokens' must be an integer")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1.5}", "'max_tokens' must be an integer")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":\"hot\"}", "'temperature' must be a number")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":\"yes\"}", "'stream' must be true or false")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream_options\":3}", "'stream_options' must be an object")]
    [InlineData("/v1/chat/completions", "{\"messages\":[7]}", "'messages[0]' must be an object")]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"seed\":\"x\"}", "'seed' must be an integer")]
    public async Task AValueOfTheWrongKindIsNamedInJsonTerms(string path, string body, string message)
    {
        using var response = await fx.Client.PostAsync(path, Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(message, doc.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task ABadSecondPromptStartsNothingAndAnNThatCanNeverFitIs400()
    {
        // The first prompt's 8 choices used to be queued before the second prompt was refused: a 400, yet 8 sequences ran on.
        var tooLong = string.Join(' ', Enumerable.Repeat("the little dog ran to the park and played", 80));
        var body = JsonSerializer.Serialize(new { prompt = new[] { "Once upon a time", tooLong }, max_tokens = 400, ignore_eos = true, n = 8 });
        using (var response = await fx.Client.PostAsync("/v1/completions", Json(body)))
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, fx.Stories.Stats.NumRunning + fx.Stories.Stats.NumWaiting);
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);

        // More choices than max_num_seqs + max_queue can never be admitted: not "busy, retry later" (503) but a 400 on n.
        var client = await fx.StartAsync(fx.Stories, new ServerOptions { ServedModelName = "stories260k", MaxQueue = 2 });
        int capacity = fx.Stories.Engine.Config.MaxNumSeqs + 2;
        using var tooMany = await client.PostAsync("/v1/completions",
            Json(JsonSerializer.Serialize(new { prompt = new[] { "a", "b" }, max_tokens = 2, n = capacity / 2 + 1 })));
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        using var doc = JsonDocument.Parse(await tooMany.Content.ReadAsStringAsync());
        Assert.Equal("n", doc.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains($"this server holds at most {capacity} (max_num_seqs + max_queue)", doc.RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task APromptLongerThanTheContextIs400()
    {
        var longPrompt = string.Join(' ', Enumerable.Repeat("Once upon a time there was a cat.", 200));
        using var response = await fx.Client.PostAsync("/v1/completions", Json(JsonSerializer.Serialize(new { prompt = longPrompt })));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("prompt", doc.RootElement.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains("context", doc.RootElement.GetProperty("error").GetProperty("message").GetString());
    }
}
