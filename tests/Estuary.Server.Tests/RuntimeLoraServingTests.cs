// vLLM's runtime LoRA endpoints: POST /v1/load_lora_adapter and /v1/unload_lora_adapter load, list, serve, unload and reload an
// adapter; bad requests are 400/404 naming the field and leave serving intact; a stream of an adapter unloaded mid-way finishes
// with its full output and frees every KV block; --api-key guards them; without the switch both paths are unknown routes (404).
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Estuary.Engine;
using Estuary.Testing;

namespace Estuary.Server.Tests;

public sealed class RuntimeLoraServingTests : IAsyncLifetime
{
    private static readonly string s_base = Fixtures.Path("baichuan2-tiny-rope");
    private static readonly string s_adapter = Fixtures.Path("lora");
    private readonly ServerFixture _servers = new();
    private AsyncLlmEngine _engine = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        var config = new EngineConfig { NumThreads = 1, NumKvBlocks = 256, EnableRuntimeLoraUpdating = true, MaxLoras = 2 };
        _engine = new AsyncLlmEngine(LlmEngine.Load(s_base, config));
        _client = await _servers.StartAsync(_engine, new ServerOptions { ServedModelName = "base" });
    }

    public async Task DisposeAsync()
    {
        await _servers.StopServersAsync();
        _engine.Dispose();
    }

    private async Task<(int Status, string Body)> PostAsync(HttpClient client, string path, object body)
    {
        using var response = await client.PostAsJsonAsync(path, body);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static void AssertError((int Status, string Body) reply, int status, string param, string containing)
    {
        Assert.True(reply.Status == status, $"{reply.Status}: {reply.Body}");
        using var doc = JsonDocument.Parse(reply.Body);
        var error = doc.RootElement.GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains(containing, error.GetProperty("message").GetString());
    }

    private async Task<string> CompletionTextAsync(string model, int[] prompt, int maxTokens)
    {
        var reply = await PostAsync(_client, "/v1/completions", new { model, prompt, max_tokens = maxTokens, temperature = 0, ignore_eos = true });
        Assert.True(reply.Status == 200, reply.Body);
        using var doc = JsonDocument.Parse(reply.Body);
        return doc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString()!;
    }

    private async Task<List<string>> ModelIdsAsync()
    {
        using var doc = JsonDocument.Parse(await _client.GetStringAsync("/v1/models"));
        return [.. doc.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!)];
    }

    private static (int[] Prompt, int[] Greedy) Reference()
    {
        using var doc = Fixtures.Json("lora", "reference.json");
        var c = doc.RootElement.GetProperty("cases")[0];
        return (Fixtures.Ints(c.GetProperty("prompt_ids")), Fixtures.Ints(c.GetProperty("greedy").GetProperty("generated_ids")));
    }

    [Fact]
    public async Task AnAdapterIsLoadedListedServedUnloadedAndReloaded()
    {
        var (prompt, greedy) = Reference();
        var expected = _engine.Engine.Tokenizer.Decode(greedy.AsSpan(0, 8));
        Assert.Equal(["base"], await ModelIdsAsync());

        using (var loaded = await _client.PostAsJsonAsync("/v1/load_lora_adapter", new { lora_name = "bible", lora_path = s_adapter }))
        {
            Assert.Equal(200, (int)loaded.StatusCode);
            Assert.Equal("text/plain", loaded.Content.Headers.ContentType!.MediaType);
            Assert.Contains("'bible' added", await loaded.Content.ReadAsStringAsync());
        }
        Assert.Equal(["base", "bible"], await ModelIdsAsync());
        Assert.Equal(expected, await CompletionTextAsync("bible", prompt, 8));
        Assert.NotEqual(expected, await CompletionTextAsync("base", prompt, 8));
        AssertError(await PostAsync(_client, "/v1/load_lora_adapter", new { lora_name = "bible", lora_path = s_adapter }), 400, "lora_name", "already loaded");

        var unloaded = await PostAsync(_client, "/v1/unload_lora_adapter", new { lora_name = "bible", lora_int_id = 1 });
        Assert.True(unloaded.Status == 200, unloaded.Body);
        Assert.Equal(["base"], await ModelIdsAsync());
        AssertError(await PostAsync(_client, "/v1/completions", new { model = "bible", prompt = "x", max_tokens = 2 }), 404, "model", "'bible' does not exist");
        AssertError(await PostAsync(_client, "/v1/unload_lora_adapter", new { lora_name = "bible" }), 404, "lora_name", "'bible' cannot be found");

        Assert.Equal(200, (await PostAsync(_client, "/v1/load_lora_adapter", new { lora_name = "bible", lora_path = s_adapter })).Status);
        Assert.Equal(expected, await CompletionTextAsync("bible", prompt, 8));
        Assert.Equal(200, (await PostAsync(_client, "/v1/unload_lora_adapter", new { lora_name = "bible" })).Status);
        await ServerFixture.AssertAllBlocksFreeAsync(_engine);
    }

    [Fact]
    public async Task BadLoadsAreRefusedNamingTheFieldAndServingGoesOn()
    {
        var (prompt, _) = Reference();
        var baseText = await CompletionTextAsync("base", prompt, 8);
        AssertError(await PostAsync(_client, "/v1/load_lora_adapter", new { lora_path = s_adapter }), 400, "lora_name", "'lora_name' is required");
        AssertError(await PostAsync(_client, "/v1/load_lora_adapter", new { lora_name = "x" }), 400, "lora_path", "'lora_path' is required");
        AssertError(await PostAsync(_client, "/v1/load_lora_adapter", new { lora_name = "base", lora_path = s_adapter }), 400, "lora_name", "served model's own name");
        var nowhere = Path.Combine(Path.GetTempPath(), "estuary-no-such-adapter");
        AssertError(await PostAsync(_client, "/v1/load_lora_adapter", new { lora_name = "x", lora_path = nowhere }), 400, "lora_path", nowhere);
        AssertError(await PostAsync(_client, "/v1/load_lora_adapter", new { lora_name = "x", lora_path = s_base }), 400, "lora_path", "adapter_config.json");
        AssertError(await PostAsync(_client, "/v1/unload_lora_adapter", new { }), 400, "lora_name", "'lora_name' is required");
        using (var notJson = await _client.PostAsync("/v1/load_lora_adapter", new StringContent("{", Encoding.UTF8, "application/json")))
            Assert.Equal(400, (int)notJson.StatusCode);

        Assert.Equal(200, (await PostAsync(_client, "/v1/load_lora_adapter", new { lora_name = "a", lora_path = s_adapter })).Status);
        Assert.Equal(200, (await PostAsync(_client, "/v1/load_lora_adapter", new { lora_name = "b", lora_path = s_adapter })).Status);
        AssertError(await PostAsync(_client, "/v1/load_lora_adapter", new { lora_name = "c", lora_path = s_adapter }), 400, "lora_name", "max_loras (2)");
        Assert.Equal(["base", "a", "b"], await ModelIdsAsync());
        Assert.Equal(baseText, await CompletionTextAsync("base", prompt, 8));
        Assert.Equal(await CompletionTextAsync("a", prompt, 8), await CompletionTextAsync("b", prompt, 8));
        Assert.Equal(200, (await PostAsync(_client, "/v1/unload_lora_adapter", new { lora_name = "a" })).Status);
        Assert.Equal(200, (await PostAsync(_client, "/v1/unload_lora_adapter", new { lora_name = "b" })).Status);
        await ServerFixture.AssertAllBlocksFreeAsync(_engine);
    }

    [Fact]
    public async Task ConcurrentLoadsNeverExceedMaxLorasNorLoadOneNameTwice()
    {
        var distinct = await Task.WhenAll(Enumerable.Range(0, 5).Select(i =>
            PostAsync(_client, "/v1/load_lora_adapter", new { lora_name = $"n{i}", lora_path = s_adapter })));
        Assert.Equal(2, distinct.Count(r => r.Status == 200));
        foreach (var refused in distinct.Where(r => r.Status != 200)) AssertError(refused, 400, "lora_name", "max_loras (2)");
        Assert.Equal(2, _engine.Engine.LoraNames.Count);
        foreach (var name in _engine.Engine.LoraNames.ToArray())
            Assert.Equal(200, (await PostAsync(_client, "/v1/unload_lora_adapter", new { lora_name = name })).Status);

        var same = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
            PostAsync(_client, "/v1/load_lora_adapter", new { lora_name = "dup", lora_path = s_adapter })));
        Assert.Equal(1, same.Count(r => r.Status == 200));
        foreach (var refused in same.Where(r => r.Status != 200)) AssertError(refused, 400, "lora_name", "already loaded");
        Assert.Equal(["dup"], _engine.Engine.LoraNames);
        Assert.Equal(200, (await PostAsync(_client, "/v1/unload_lora_adapter", new { lora_name = "dup" })).Status);
    }

    [Fact]
    public async Task AStreamWhoseAdapterIsUnloadedMidwayFinishesWithItsFullOutput()
    {
        var (prompt, _) = Reference();
        const int maxTokens = 400;
        Assert.Equal(200, (await PostAsync(_client, "/v1/load_lora_adapter", new { lora_name = "bible", lora_path = s_adapter })).Status);
        var expected = await CompletionTextAsync("bible", prompt, maxTokens);

        var body = JsonSerializer.Serialize(new { model = "bible", prompt, max_tokens = maxTokens, temperature = 0, ignore_eos = true, stream = true });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.True(response.IsSuccessStatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var text = new StringBuilder();
        string? finish = null;
        bool unloaded = false;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: {", StringComparison.Ordinal)) continue;
            using var chunk = JsonDocument.Parse(line["data: ".Length..]);
            var choice = chunk.RootElement.GetProperty("choices")[0];
            text.Append(choice.GetProperty("text").GetString());
            if (choice.GetProperty("finish_reason").ValueKind == JsonValueKind.String) finish = choice.GetProperty("finish_reason").GetString();
            if (!unloaded && finish is null)
            {
                // After the first chunk: the name goes at once, the running request keeps its adapter.
                Assert.Equal(200, (await PostAsync(_client, "/v1/unload_lora_adapter", new { lora_name = "bible" })).Status);
                unloaded = true;
                Assert.Equal(["base"], await ModelIdsAsync());
                AssertError(await PostAsync(_client, "/v1/completions", new { model = "bible", prompt = "x", max_tokens = 2 }), 404, "model", "'bible' does not exist");
            }
        }
        Assert.True(unloaded);
        Assert.Equal("length", finish);
        Assert.Equal(expected, text.ToString());
        await ServerFixture.AssertAllBlocksFreeAsync(_engine);
        // Its slot was freed when the stream finished: both slots can be filled again.
        Assert.Equal(200, (await PostAsync(_client, "/v1/load_lora_adapter", new { lora_name = "a", lora_path = s_adapter })).Status);
        Assert.Equal(200, (await PostAsync(_client, "/v1/load_lora_adapter", new { lora_name = "b", lora_path = s_adapter })).Status);
        Assert.Equal(200, (await PostAsync(_client, "/v1/unload_lora_adapter", new { lora_name = "a" })).Status);
        Assert.Equal(200, (await PostAsync(_client, "/v1/unload_lora_adapter", new { lora_name = "b" })).Status);
    }

    [Fact]
    public async Task WithAnApiKeyLoadingNeedsTheKey()
    {
        var servers = new ServerFixture();
        using var engine = new AsyncLlmEngine(LlmEngine.Load(s_base, new EngineConfig { NumThreads = 1, NumKvBlocks = 64, EnableRuntimeLoraUpdating = true }));
        try
        {
            var client = await servers.StartAsync(engine, new ServerOptions { ServedModelName = "base", ApiKey = "secret" });
            client.DefaultRequestHeaders.Authorization = null;
            Assert.Equal(401, (await PostAsync(client, "/v1/load_lora_adapter", new { lora_name = "bible", lora_path = s_adapter })).Status);
            Assert.Empty(engine.Engine.LoraNames);
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "secret");
            Assert.Equal(200, (await PostAsync(client, "/v1/load_lora_adapter", new { lora_name = "bible", lora_path = s_adapter })).Status);
            Assert.Equal(["bible"], engine.Engine.LoraNames);
        }
        finally
        {
            await servers.StopServersAsync();
        }
    }

    [Fact]
    public async Task WithoutTheSwitchBothPathsAreUnknownRoutes()
    {
        var servers = new ServerFixture();
        using var engine = new AsyncLlmEngine(LlmEngine.Load(s_base, new EngineConfig { NumThreads = 1, NumKvBlocks = 64 }));
        try
        {
            var client = await servers.StartAsync(engine, new ServerOptions { ServedModelName = "base" });
            var load = await PostAsync(client, "/v1/load_lora_adapter", new { lora_name = "bible", lora_path = s_adapter });
            Assert.Equal(404, load.Status);
            Assert.Contains("no API at POST /v1/load_lora_adapter", load.Body);
            Assert.Equal(404, (await PostAsync(client, "/v1/unload_lora_adapter", new { lora_name = "bible" })).Status);
            using var models = JsonDocument.Parse(await client.GetStringAsync("/v1/models"));
            Assert.Equal(1, models.RootElement.GetProperty("data").GetArrayLength());
        }
        finally
        {
            await servers.StopServersAsync();
        }
    }
}
