// Starts real servers on loopback ports over one shared engine per model (the embedded stories260K, and the Baichuan2 fixture),
// and waits for the KV pool to be all-free again, the invariant every test ends on.
using System.Net.Http.Headers;
using Estuary.Engine;
using Estuary.Server;
using Estuary.Testing;
using Estuary.Tokenization;

namespace Estuary.Server.Tests;

public sealed class ServerFixture : IAsyncLifetime
{
    private readonly List<EstuaryServer> _servers = [];

    public static string EmbeddedModel => Path.Combine(AppContext.BaseDirectory, "models", "stories260k");

    public AsyncLlmEngine Stories { get; private set; } = null!;
    public AsyncLlmEngine Baichuan { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;
    public HttpClient BaichuanClient { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var config = new EngineConfig { NumThreads = 1, NumKvBlocks = 512, MaxNumSeqs = 16 };
        Stories = new AsyncLlmEngine(LlmEngine.Load(EmbeddedModel, config));
        Baichuan = new AsyncLlmEngine(LlmEngine.Load(Fixtures.Path("baichuan2-tiny-rope"), config with { MaxModelLen = 1024 }));
        Client = await StartAsync(Stories, new ServerOptions { ServedModelName = "stories260k" });
        BaichuanClient = await StartAsync(Baichuan, new ServerOptions { ServedModelName = "baichuan2-tiny" });
    }

    /// <summary>Starts another server (own options) over <paramref name="engine"/> on a free loopback port.</summary>
    public async Task<HttpClient> StartAsync(AsyncLlmEngine engine, ServerOptions options)
    {
        var dir = engine.Engine.ModelDirectory!;
        var server = EstuaryServer.Create(engine, ChatFormats.ForModel(dir, engine.Engine.Tokenizer), options with { Host = "127.0.0.1", Port = 0 },
            logging => { });
        await server.StartAsync();
        lock (_servers) _servers.Add(server);
        var client = NewClient(new Uri(server.Addresses[0]));
        if (options.ApiKey is { } key) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>
    /// A client whose disposing of an unread response really hangs up. By default SocketsHttpHandler drains up to 1 MB of an
    /// unread body (for up to 2 s) to reuse the connection; a stream of a few thousand tiny-model tokens fits in that, so the
    /// server would see a reader, not a disconnect, and the request would run to its end.
    /// </summary>
    public static HttpClient NewClient(Uri baseAddress) =>
        new(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Polls (bounded) until the engine is idle with every KV block free; fails the test otherwise.</summary>
    /// <summary>The official SDK's options for a server behind <paramref name="client"/> (base URL …/v1).</summary>
    public static OpenAI.OpenAIClientOptions OpenAiOptions(HttpClient client) =>
        new() { Endpoint = new Uri(client.BaseAddress!, "/v1"), NetworkTimeout = TimeSpan.FromSeconds(30) };

    /// <summary>The official SDK's chat client for <paramref name="model"/> on the server behind <paramref name="client"/>.</summary>
    public static OpenAI.Chat.ChatClient OpenAiChat(HttpClient client, string model = "stories260k") =>
        new(model, new System.ClientModel.ApiKeyCredential("unused"), OpenAiOptions(client));

    public static async Task AssertAllBlocksFreeAsync(AsyncLlmEngine engine)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        EngineStats stats;
        while (true)
        {
            stats = engine.Stats;
            if (stats.NumFreeKvBlocks == stats.NumKvBlocks && stats.NumRunning == 0 && stats.NumWaiting == 0) return;
            if (DateTime.UtcNow > deadline) break;
            await Task.Delay(20);
        }
        Assert.Fail($"KV blocks not all free: {stats}");
    }

    public async Task DisposeAsync()
    {
        await StopServersAsync();
        Stories?.Dispose();
        Baichuan?.Dispose();
    }

    /// <summary>Stops every server this fixture started (engines are the caller's).</summary>
    public async Task StopServersAsync()
    {
        foreach (var server in _servers)
        {
            await server.StopAsync();
            await server.DisposeAsync();
        }
        _servers.Clear();
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}
