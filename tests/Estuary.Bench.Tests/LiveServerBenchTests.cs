// The benchmark clients against the real server on loopback: counts match the server's usage, TTFT ≤ E2E, throughput = tokens / time.
using Estuary.Bench.Clients;
using Estuary.Bench.Running;
using Estuary.Bench.Workloads;
using Estuary.Engine;
using Estuary.Server;
using Estuary.Testing;
using Estuary.Tokenization;

namespace Estuary.Bench.Tests;

public sealed class LiveServerBenchTests : IAsyncLifetime
{
    private AsyncLlmEngine _engine = null!;
    private EstuaryServer _server = null!;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private Uri _uri = null!;

    public async Task InitializeAsync()
    {
        var dir = Fixtures.Path("stories260k");
        _engine = new AsyncLlmEngine(LlmEngine.Load(dir, new EngineConfig { NumThreads = 1, NumKvBlocks = 256, MaxNumSeqs = 8 }));
        _server = EstuaryServer.Create(_engine, ChatFormats.ForModel(dir, _engine.Engine.Tokenizer),
            new ServerOptions { Host = "127.0.0.1", Port = 0, ServedModelName = "stories" }, _ => { });
        await _server.StartAsync();
        _uri = new Uri(_server.Addresses[0].TrimEnd('/') + "/");
    }

    public async Task DisposeAsync()
    {
        await _server.StopAsync();
        await _server.DisposeAsync();
        _engine.Dispose();
        _http.Dispose();
    }

    [Theory]
    [InlineData("openai-completions")]
    [InlineData("openai-chat")]
    [InlineData("triton")]
    [InlineData("inference")]
    public async Task SweepMetricsAgreeWithTheServer(string dialect)
    {
        var tok = _engine.Engine.Tokenizer;
        IBenchClient client = dialect switch
        {
            "openai-completions" => new OpenAiBenchClient(_http, _uri, "stories", chat: false, tok),
            "openai-chat" => new OpenAiBenchClient(_http, _uri, "stories", chat: true, tok),
            "triton" => new TritonBenchClient(_http, _uri, "ensemble", stream: true, tok),
            _ => new InferenceBenchClient(_http, _uri, tok),
        };
        var work = RandomWorkload.Build(tok, 6, 48, 12, seed: 2);
        var level = await BenchRunner.RunLevelAsync(client, work, concurrency: 3, requestRate: null, seed: 2, completed: null, CancellationToken.None);
        Assert.Equal(6, level.Completed);
        Assert.Equal(0, level.Failed);
        foreach (var r in level.Requests)
        {
            Assert.True(r.Ttft > 0 && r.Ttft <= r.Latency, $"TTFT {r.Ttft} vs E2E {r.Latency}");
            if (dialect.StartsWith("openai", StringComparison.Ordinal))
            {
                Assert.True(r.CountsFromServer);
                Assert.Equal(12, r.OutputTokens); // ignore_eos + max_tokens, as the server's usage reports
            }
            else
            {
                Assert.True(r.OutputTokens > 0);
            }
            if (dialect == "openai-completions") Assert.Equal(48 + (tok.AddBos ? 1 : 0), r.PromptTokens); // the server adds BOS, as vLLM does
        }
        Assert.Equal(level.TotalOutputTokens / level.Duration, level.OutputThroughput, 6);
        Assert.Equal(level.Completed / level.Duration, level.RequestThroughput, 6);
        Assert.True(level.Duration <= level.Requests.Max(r => r.StartOffset + r.Latency) + 1e-9);
    }

    [Fact]
    public async Task PoissonArrivalsRespectTheRate()
    {
        var tok = _engine.Engine.Tokenizer;
        var client = new OpenAiBenchClient(_http, _uri, "stories", chat: false, tok);
        var work = RandomWorkload.Build(tok, 8, 16, 4, seed: 4);
        // The runner draws its gaps from Random(seed) as -ln(1 - u) / rate; the last send cannot happen before their sum.
        var rng = new Random(4);
        double lastArrival = 0;
        for (int i = 0; i < 8; i++) lastArrival += -Math.Log(1 - rng.NextDouble()) / 20;
        Assert.True(lastArrival > 0.05, $"schedule sanity: {lastArrival:F3} s");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var level = await BenchRunner.RunLevelAsync(client, work, concurrency: 0, requestRate: 20, seed: 4, completed: null, CancellationToken.None);
        double elapsed = clock.Elapsed.TotalSeconds;
        Assert.Equal(8, level.Completed);
        // Timed by wall clock, not by the requests' own start stamps, which a busy thread pool can bunch together.
        Assert.True(elapsed >= lastArrival - 0.002, $"all 8 requests were done after {elapsed:F3} s, before the last scheduled arrival at {lastArrival:F3} s");
    }
}
