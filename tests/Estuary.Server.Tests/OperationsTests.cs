// Running the server: all three APIs at once on one engine, API keys, the queue limit (503 + Retry-After), /metrics moving,
// client disconnects freeing blocks, and graceful stop with a request in flight.
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Estuary.Engine;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed partial class OperationsTests(ServerFixture fx)
{
    // Thousands of tokens on the 4096-context Baichuan2 fixture: long enough to still be running when the test hangs up.
    private const string LongStream = "{\"prompt\":\"Once upon a time\",\"max_tokens\":4000,\"ignore_eos\":true,\"stream\":true}";

    private static AsyncLlmEngine LongContextEngine(int maxNumSeqs) => new(LlmEngine.Load(Testing.Fixtures.Path("baichuan2-tiny-rope"),
        new EngineConfig { NumThreads = 1, NumKvBlocks = 600, MaxNumSeqs = maxNumSeqs }));

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Fact]
    public async Task AllThreeApisRunConcurrentlyOnOneEngine()
    {
        var tasks = new List<Task<HttpResponseMessage>>();
        for (int i = 0; i < 4; i++)
        {
            tasks.Add(fx.Client.PostAsync("/inference", Json("{\"messages\":[{\"role\":\"user\",\"content\":\"Tell a story\"}]}")));
            tasks.Add(fx.Client.PostAsync("/v1/chat/completions", Json($"{{\"messages\":[{{\"role\":\"user\",\"content\":\"hi {i}\"}}],\"max_tokens\":30,\"seed\":{i}}}")));
            tasks.Add(fx.Client.PostAsync("/v1/completions", Json("{\"prompt\":\"The cat\",\"max_tokens\":30,\"n\":2}")));
            tasks.Add(fx.Client.PostAsync("/v2/models/ensemble/generate", Json("{\"text_input\":\"A dog\",\"max_tokens\":30}")));
        }
        var responses = await Task.WhenAll(tasks);
        foreach (var r in responses)
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.NotEmpty(await r.Content.ReadAsStringAsync());
            r.Dispose();
        }
        Assert.True(fx.Stories.Stats.NumSteps > 0);
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task AnApiKeyGuardsTheApisButNotHealth()
    {
        var keyed = await fx.StartAsync(fx.Stories, new ServerOptions { ServedModelName = "stories260k", ApiKey = "sekrit" });
        using var open = new HttpClient { BaseAddress = keyed.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        foreach (var (method, path) in new[] { ("GET", "/v1/models"), ("POST", "/v2/models/ensemble/generate"), ("POST", "/inference"), ("POST", "/tokenize"), ("POST", "/detokenize") })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = Json("{}") };
            using var response = await open.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.True(doc.RootElement.TryGetProperty("error", out _));
        }
        open.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await open.GetAsync("/v1/models")).StatusCode);
        foreach (var path in new[] { "/health", "/ping", "/v2/health/live", "/v2/health/ready", "/metrics", "/version" })
            Assert.Equal(HttpStatusCode.OK, (await open.GetAsync(path)).StatusCode);
        // SageMaker probes POST /ping (vLLM serves it): the same answer as GET /health.
        using var ping = await open.PostAsync("/ping", null);
        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        Assert.Equal(await (await open.GetAsync("/health")).Content.ReadAsStringAsync(), await ping.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await open.DeleteAsync("/ping")).StatusCode);
        foreach (var path in new[] { "/health", "/ping", "/v2/health/live", "/v2/health/ready" })
        {
            // Load balancers and uptime probes often send HEAD: same status, no body.
            using var head = await open.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        }
        Assert.Equal(HttpStatusCode.OK, (await keyed.GetAsync("/v1/models")).StatusCode);
        using var ok = await keyed.PostAsync("/v2/models/ensemble/generate", Json("{\"text_input\":\"hi\",\"max_tokens\":4}"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task AFullQueueAnswers503WithRetryAfterAndDisconnectsFreeBlocks()
    {
        using var engine = LongContextEngine(maxNumSeqs: 1);
        var client = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "b", MaxQueue = 1 });
        using var first = await OpenStreamAsync(client, "/v1/completions", LongStream);
        using var second = await OpenStreamAsync(client, "/v1/chat/completions",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":4000,\"ignore_eos\":true,\"stream\":true}");
        using var third = await client.PostAsync("/v2/models/ensemble/generate", Json("{\"text_input\":\"hi\",\"max_tokens\":4}"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, third.StatusCode);
        Assert.NotNull(third.Headers.RetryAfter);
        using var fourth = await client.PostAsync("/v1/completions", Json("{\"prompt\":\"hi\"}"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, fourth.StatusCode);
        Assert.Contains("\"error\"", await fourth.Content.ReadAsStringAsync());

        // Hang up mid-stream: both requests are aborted and every block comes back.
        first.Dispose();
        second.Dispose();
        await ServerFixture.AssertAllBlocksFreeAsync(engine);
        // The handlers record the abort as they unwind, which can trail the engine's abort by a moment. The tiny fixture writes its
        // 4000 tokens in well under a second, so the running request may have finished (length) before the hang-up; the queued one
        // cannot have (it starts only after the first and needs as long again). Each request is recorded once. (The client must
        // not drain unread bodies on dispose, see ServerFixture.NewClient: a draining client made both run to "length".)
        const string abort = "estuary_request_success_total{finish_reason=\"abort\"}", length = "estuary_request_success_total{finish_reason=\"length\"}";
        var metrics = await client.GetStringAsync("/metrics");
        for (int i = 0; i < 200 && Metric(metrics, abort) + Metric(metrics, length) < 2; i++)
        {
            await Task.Delay(25);
            metrics = await client.GetStringAsync("/metrics");
        }
        Assert.Equal(2, Metric(metrics, abort) + Metric(metrics, length));
        Assert.True(Metric(metrics, abort) >= 1, metrics);
        Assert.True(Metric(metrics, "estuary_request_rejected_total") >= 2);
        using var after = await client.PostAsync("/v1/completions", Json("{\"prompt\":\"hi\",\"max_tokens\":3}"));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task MetricsParseAndTheirCountersMove()
    {
        var before = await fx.Client.GetStringAsync("/metrics");
        foreach (var line in before.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            Assert.True(line.StartsWith('#') || SampleLine().IsMatch(line), $"not a Prometheus sample line: {line}");
        using var r = await fx.Client.PostAsync("/v1/completions", Json("{\"prompt\":\"Once upon a time\",\"max_tokens\":5,\"temperature\":0}"));
        using var again = await fx.Client.PostAsync("/v1/completions", Json("{\"prompt\":\"Once upon a time\",\"max_tokens\":5,\"temperature\":0}"));
        var after = await fx.Client.GetStringAsync("/metrics");
        Assert.True(Metric(after, "estuary_request_success_total{finish_reason=\"length\"}") >= Metric(before, "estuary_request_success_total{finish_reason=\"length\"}") + 2);
        Assert.True(Metric(after, "estuary_generation_tokens_total") >= Metric(before, "estuary_generation_tokens_total") + 10);
        Assert.True(Metric(after, "estuary_prompt_tokens_total") > Metric(before, "estuary_prompt_tokens_total"));
        Assert.True(Metric(after, "estuary_time_to_first_token_seconds_count") >= Metric(before, "estuary_time_to_first_token_seconds_count") + 2);
        Assert.True(Metric(after, "estuary_e2e_request_latency_seconds_count") > Metric(before, "estuary_e2e_request_latency_seconds_count"));
        Assert.Equal(512, Metric(after, "estuary_kv_cache_blocks_total"));
        foreach (var name in new[] { "estuary_num_requests_running", "estuary_num_requests_waiting", "estuary_kv_cache_blocks_used",
            "estuary_kv_cache_usage_ratio", "estuary_prefix_cache_hit_rate", "estuary_num_preemptions_total",
            "estuary_time_per_output_token_seconds_count", "estuary_request_queue_time_seconds_count" })
            Assert.True(Metric(after, name) >= 0, name);
    }

    [Fact]
    public async Task SpeculativeDecodingChangesNoAnswerAndIsCountedInMetrics()
    {
        using var engine = new AsyncLlmEngine(LlmEngine.Load(ServerFixture.EmbeddedModel,
            new EngineConfig { NumThreads = 1, NumKvBlocks = 128, NumSpeculativeTokens = 4, PromptLookupMin = 1 }));
        var client = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "stories260k" });
        const string body = "{\"prompt\":\"Once upon a time, there was a little girl. Once upon a time\",\"max_tokens\":120,\"temperature\":0}";
        using var plain = await fx.Client.PostAsync("/v1/completions", Json(body));
        using var speculative = await client.PostAsync("/v1/completions", Json(body));
        using var plainDoc = JsonDocument.Parse(await plain.Content.ReadAsStringAsync());
        using var speculativeDoc = JsonDocument.Parse(await speculative.Content.ReadAsStringAsync());
        Assert.Equal(plainDoc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString(),
            speculativeDoc.RootElement.GetProperty("choices")[0].GetProperty("text").GetString());
        var metrics = await client.GetStringAsync("/metrics");
        double drafts = Metric(metrics, "estuary_spec_decode_num_draft_tokens_total"), accepted = Metric(metrics, "estuary_spec_decode_num_accepted_tokens_total");
        Assert.True(accepted > 0 && accepted <= drafts, $"{accepted} of {drafts}");
        Assert.Equal(0, Metric(await fx.Client.GetStringAsync("/metrics"), "estuary_spec_decode_num_draft_tokens_total"));
        await ServerFixture.AssertAllBlocksFreeAsync(engine);
    }

    [Fact]
    public async Task StoppingWithARequestInFlightEndsItCleanlyAndFreesItsBlocks()
    {
        using var engine = LongContextEngine(maxNumSeqs: 4);
        // 4 s leaves the server 2 s to write the endings after it aborts: with 300 ms (150 ms for them), and once with 2 s (1 s
        // for them), a loaded 2-core machine (test projects run in parallel) reset the connection first.
        var options = new ServerOptions { ServedModelName = "b", ShutdownTimeout = TimeSpan.FromSeconds(4), Port = 0 };
        await using var server = EstuaryServer.Create(engine, Tokenization.ChatFormats.ForModel(engine.Engine.ModelDirectory!, engine.Engine.Tokenizer),
            options, _ => { });
        await server.StartAsync();
        using var client = ServerFixture.NewClient(new Uri(server.Addresses[0]));
        // Sixteen choices, four running at a time: the tiny model writes 4000 tokens in well under a second, but the queued choices
        // cannot all finish before the deadline, whatever the machine's speed, so the stream must end by the shutdown.
        using var stream = await OpenStreamAsync(client, "/v1/completions", LongStream[..^1] + ",\"n\":16}");
        // The client keeps reading while the server stops, as a real one does: were it to wait, the socket buffers would fill and
        // the server could not write the ending before its deadline, whatever the server did right.
        var reading = ReadRestAsync(stream);
        var stopping = server.StopAsync();
        Assert.True(await Task.WhenAny(stopping, Task.Delay(TimeSpan.FromSeconds(10))) == stopping, "stop did not finish in time");
        // The in-flight stream was ended at the shutdown deadline rather than left to run its 4000 tokens, and ended cleanly:
        // its last choice says finish_reason "abort" and [DONE] follows (it used to be a reset connection with no ending).
        var rest = await reading;
        Assert.True(rest.Contains("\"finish_reason\":\"abort\"", StringComparison.Ordinal), $"no abort in the stream's end: …{rest[^Math.Min(rest.Length, 600)..]}");
        Assert.EndsWith("data: [DONE]\n\n", rest);
        await ServerFixture.AssertAllBlocksFreeAsync(engine);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync("/health"));
    }

    /// <summary>POSTs a streaming request and returns once its first event arrived (the request is running).</summary>
    internal static async Task<HttpResponseMessage> OpenStreamAsync(HttpClient client, string path, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(body) };
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[1];
        Assert.Equal(1, await stream.ReadAsync(buffer));
        return response;
    }

    private static async Task<string> ReadRestAsync(HttpResponseMessage response)
    {
        try
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            return await reader.ReadToEndAsync();
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            return "";
        }
    }

    private static double Metric(string text, string sample)
    {
        foreach (var line in text.Split('\n'))
            if (line.StartsWith(sample + " ", StringComparison.Ordinal))
                return double.Parse(line[(sample.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        return 0;
    }

    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)$")]
    private static partial Regex SampleLine();
}
