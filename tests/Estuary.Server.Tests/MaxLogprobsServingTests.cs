// vLLM's --max-logprobs (EngineConfig.MaxLogprobs): the most logprobs, top_logprobs and prompt_logprobs a request may ask;
// beyond it a 400 names the field, up to it the alternatives come back; -1 lifts the cap to the vocabulary size.
using System.Text;
using System.Text.Json;
using Estuary.Engine;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class MaxLogprobsServingTests(ServerFixture fx)
{
    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static AsyncLlmEngine Stories(int maxLogprobs) =>
        new(LlmEngine.Load(ServerFixture.EmbeddedModel, new EngineConfig { NumThreads = 1, NumKvBlocks = 64, MaxNumSeqs = 4, MaxLogprobs = maxLogprobs }));

    private static async Task<(int Status, JsonElement Body)> PostAsync(HttpClient client, string path, string body)
    {
        using var response = await client.PostAsync(path, Json(body));
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    [Fact]
    public async Task ALowerLimitRefusesMoreAndAllowsUpToIt()
    {
        using var engine = Stories(maxLogprobs: 3);
        var client = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "small" });
        const string chat = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2,\"logprobs\":true,\"top_logprobs\":";
        foreach (var (path, body, field) in new[]
        {
            ("/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":2,\"logprobs\":4}", "logprobs"),
            ("/v1/completions", "{\"prompt\":\"hi there\",\"max_tokens\":2,\"prompt_logprobs\":4}", "prompt_logprobs"),
            ("/v1/chat/completions", chat + "4}", "top_logprobs"),
        })
        {
            var (status, error) = await PostAsync(client, path, body);
            Assert.Equal(400, status);
            Assert.Equal(field, error.GetProperty("error").GetProperty("param").GetString());
            Assert.Contains("max_logprobs is 3", error.GetProperty("error").GetProperty("message").GetString());
        }
        var (okStatus, ok) = await PostAsync(client, "/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":2,\"logprobs\":3}");
        Assert.Equal(200, okStatus);
        Assert.Equal(3, ok.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("top_logprobs")[0].EnumerateObject().Count());
        var (chatStatus, chatOk) = await PostAsync(client, "/v1/chat/completions", chat + "3}");
        Assert.Equal(200, chatStatus);
        Assert.Equal(3, chatOk.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("content")[0].GetProperty("top_logprobs").GetArrayLength());
        await ServerFixture.AssertAllBlocksFreeAsync(engine);
    }

    [Fact]
    public async Task MinusOneAllowsMoreThanTheDefaultTwenty()
    {
        // The shared server keeps the default: 21 is refused there.
        var (defaultStatus, _) = await PostAsync(fx.Client, "/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":1,\"logprobs\":21}");
        Assert.Equal(400, defaultStatus);
        using var engine = Stories(maxLogprobs: -1);
        var client = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "uncapped" });
        var (status, body) = await PostAsync(client, "/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":1,\"logprobs\":50}");
        Assert.Equal(200, status);
        Assert.Equal(50, body.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("top_logprobs")[0].EnumerateObject().Count());
        int vocab = engine.Engine.ModelConfig.VocabSize;
        var (tooMany, error) = await PostAsync(client, "/v1/completions", $"{{\"prompt\":\"hi\",\"max_tokens\":1,\"logprobs\":{vocab + 1}}}");
        Assert.Equal(400, tooMany);
        Assert.Equal("logprobs", error.GetProperty("error").GetProperty("param").GetString());
        await ServerFixture.AssertAllBlocksFreeAsync(engine);
    }
}
