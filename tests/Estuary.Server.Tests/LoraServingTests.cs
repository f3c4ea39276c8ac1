// Adapters served unmerged are chosen per request by model name on all three APIs, in one batch with base requests.
using System.Net.Http.Json;
using System.Text.Json;
using Estuary.Engine;
using Estuary.Server;
using Estuary.Testing;

namespace Estuary.Server.Tests;

public sealed class LoraServingTests : IAsyncLifetime
{
    private readonly ServerFixture _servers = new();
    private AsyncLlmEngine _engine = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        var loras = new Dictionary<string, string> { ["adapter"] = Fixtures.Path("lora") };
        _engine = new AsyncLlmEngine(LlmEngine.Load(Fixtures.Path("baichuan2-tiny-rope"), new EngineConfig { NumThreads = 1, NumKvBlocks = 256 }, loras: loras));
        _client = await _servers.StartAsync(_engine, new ServerOptions { ServedModelName = "base" });
    }

    public async Task DisposeAsync()
    {
        await _servers.StopServersAsync();
        _engine.Dispose();
    }

    private async Task<string> CompletionText(string model, int[] prompt, int maxTokens)
    {
        var response = await _client.PostAsJsonAsync("/v1/completions", new { model, prompt, max_tokens = maxTokens, temperature = 0, repetition_penalty = 1.0, ignore_eos = true });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var doc = JsonDocument.Parse(body);
        Assert.Equal(maxTokens, doc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        return doc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
    }

    [Fact]
    public async Task AdapterAndBaseRequestsShareABatchAndMatchTheirReferences()
    {
        using var lora = Fixtures.Json("lora", "reference.json");
        using var baseRef = Fixtures.Json("baichuan2-tiny-rope", "reference.json");
        var c = lora.RootElement.GetProperty("cases")[0];
        var prompt = Fixtures.Ints(c.GetProperty("prompt_ids"));
        var merged = Fixtures.Ints(c.GetProperty("greedy").GetProperty("generated_ids"));
        var models = await _client.GetStringAsync("/v1/models");
        Assert.Contains("\"adapter\"", models);
        Assert.Contains("\"base\"", models);
        var adapterTask = CompletionText("adapter", prompt, 8);
        var baseTask = CompletionText("base", prompt, 8);
        var results = await Task.WhenAll(adapterTask, baseTask);
        var baseIds = Fixtures.Ints(baseRef.RootElement.GetProperty("cases")[0].GetProperty("greedy").GetProperty("generated_ids"));
        Assert.Equal(_engine.Engine.Tokenizer.Decode(merged.AsSpan(0, 8)), results[0]);
        if (baseRef.RootElement.GetProperty("cases")[0].GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()).SequenceEqual(prompt))
            Assert.Equal(_engine.Engine.Tokenizer.Decode(baseIds.AsSpan(0, 8)), results[1]);
        Assert.NotEqual(results[0], results[1]);
        var triton = await _client.PostAsJsonAsync("/v2/models/adapter/generate", new { text_input = "x", max_tokens = 2 });
        Assert.True(triton.IsSuccessStatusCode, await triton.Content.ReadAsStringAsync());
        var unknown = await _client.PostAsJsonAsync("/v1/completions", new { model = "nope", prompt = "x" });
        Assert.Equal(404, (int)unknown.StatusCode);
        Assert.Contains("adapter", await unknown.Content.ReadAsStringAsync());
        var inference = await _client.PostAsJsonAsync("/inference", new { model = "adapter", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 3 });
        Assert.True(inference.IsSuccessStatusCode, await inference.Content.ReadAsStringAsync());
        await ServerFixture.AssertAllBlocksFreeAsync(_engine);
    }
}
