// vLLM's stream_options.continuous_usage_stats: with include_usage, every streamed chunk carries its choice's prompt tokens and
// the tokens generated so far (checked against the logprobs tokens streamed up to that chunk); without include_usage, none do.
using System.Text.Json;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ContinuousUsageStatsTests(ServerFixture fx)
{
    [Fact]
    public async Task ChatChunksCountTheTokensStreamedSoFar()
    {
        const string body = "{\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story\"}],\"max_tokens\":8,\"temperature\":0,\"ignore_eos\":true," +
            "\"logprobs\":true,\"stream\":true,\"stream_options\":{\"include_usage\":true,\"continuous_usage_stats\":true}}";
        var events = await Sse.ReadAsync(fx.Client, "/v1/chat/completions", body);
        Assert.Equal("[DONE]", events[^1]);
        int streamed = 0, prompt = -1;
        foreach (var e in events.SkipLast(1))
        {
            using var doc = JsonDocument.Parse(e);
            var usage = doc.RootElement.GetProperty("usage");
            Assert.Equal(JsonValueKind.Object, usage.ValueKind);
            foreach (var c in doc.RootElement.GetProperty("choices").EnumerateArray())
                if (c.GetProperty("logprobs").ValueKind == JsonValueKind.Object) streamed += c.GetProperty("logprobs").GetProperty("content").GetArrayLength();
            if (prompt < 0) prompt = usage.GetProperty("prompt_tokens").GetInt32();
            Assert.Equal(prompt, usage.GetProperty("prompt_tokens").GetInt32());
            Assert.Equal(streamed, usage.GetProperty("completion_tokens").GetInt32());
            Assert.Equal(prompt + streamed, usage.GetProperty("total_tokens").GetInt32());
        }
        Assert.Equal(8, streamed);
        Assert.True(prompt > 3);
        using var last = JsonDocument.Parse(events[^2]);
        Assert.Equal(0, last.RootElement.GetProperty("choices").GetArrayLength()); // the closing usage chunk is still sent

        // continuous_usage_stats alone (no include_usage) adds nothing, as in vLLM.
        var plain = await Sse.ReadAsync(fx.Client, "/v1/chat/completions", body.Replace("\"include_usage\":true,", ""));
        foreach (var e in plain.SkipLast(1))
        {
            using var doc = JsonDocument.Parse(e);
            Assert.NotEqual(JsonValueKind.Object, doc.RootElement.GetProperty("usage").ValueKind);
        }
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task CompletionChunksCountEachChoiceOnItsOwn()
    {
        var tokenizer = fx.Stories.Engine.Tokenizer;
        string[] prompts = ["Once upon a time", "The dog ran to the big red ball and"];
        var events = await Sse.ReadAsync(fx.Client, "/v1/completions",
            "{\"prompt\":[\"" + prompts[0] + "\",\"" + prompts[1] + "\"],\"max_tokens\":7,\"temperature\":0,\"ignore_eos\":true,\"logprobs\":0,\"echo\":true," +
            "\"stream\":true,\"stream_options\":{\"include_usage\":true,\"continuous_usage_stats\":true}}");
        var streamed = new int[2];
        var echoed = new bool[2];
        foreach (var e in events.SkipLast(2))
        {
            using var doc = JsonDocument.Parse(e);
            var choice = doc.RootElement.GetProperty("choices")[0];
            int i = choice.GetProperty("index").GetInt32();
            var usage = doc.RootElement.GetProperty("usage");
            var lp = choice.GetProperty("logprobs");
            if (!echoed[i])
            {
                // The echo comes first, with the prompt's scores and nothing generated yet.
                echoed[i] = true;
                Assert.Equal(prompts[i], choice.GetProperty("text").GetString());
            }
            else if (lp.ValueKind == JsonValueKind.Object) streamed[i] += lp.GetProperty("tokens").GetArrayLength();
            Assert.Equal(tokenizer.Encode(prompts[i]).Length, usage.GetProperty("prompt_tokens").GetInt32());
            Assert.Equal(streamed[i], usage.GetProperty("completion_tokens").GetInt32());
        }
        Assert.Equal([7, 7], streamed);
        using var last = JsonDocument.Parse(events[^2]);
        Assert.Equal(14, last.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }
}
