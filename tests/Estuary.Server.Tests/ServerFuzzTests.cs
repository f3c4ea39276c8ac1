// The seeded server fuzzer (Fuzzing/) against three servers: the embedded stories260K (SentencePiece, built-in chat format), a
// tiny byte-level model with a chat template that uses tools and raises on a message saying RAISE (served with the mistral
// tool-call parser), and a scripted model with that template which thinks before it answers, served with the qwen3 reasoning
// parser, the Hermes tool-call parser and a responses store. Every answer must keep ResponseOracle's rules; afterwards each
// server answers a normal request as before and holds no request, admission or KV block.
// Bounded by default (a few hundred requests); ESTUARY_FUZZ_SEED / ESTUARY_FUZZ_COUNT / ESTUARY_FUZZ_CONCURRENCY run it long
// (scripts/fuzz-server.sh).
using Estuary.Engine.Reasoning;
using System.Net;
using System.Text;
using System.Text.Json;
using Estuary.Engine;
using Estuary.Testing;
using Estuary.Server.Tests.Fuzzing;
using Estuary.Tokenization;
using Xunit.Abstractions;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ServerFuzzTests(ServerFixture fx, ITestOutputHelper output) : IDisposable
{
    private const string Template =
        "{{ bos_token }}{% if tools %}{{ '<|start_header_id|>system<|end_header_id|>\\n\\n' + (tools | tojson) + '<|eot_id|>' }}{% endif %}" +
        "{% for m in messages %}{% if m['content'] is string and 'RAISE' in m['content'] %}{{ raise_exception('the template refuses ' + m['content'][:20]) }}{% endif %}" +
        "{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' }}{% if m.tool_calls %}{{ m.tool_calls | tojson }}{% else %}{{ m['content'] | trim }}{% endif %}<|eot_id|>" +
        "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

    private const string Reference = "{\"prompt\":\"Once upon a time\",\"max_tokens\":12,\"temperature\":0}";

    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-fuzz-model-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out int value) ? value : fallback;

    [Fact]
    public async Task Seeded_fuzzing_never_breaks_the_stories_server()
    {
        // ESTUARY_FUZZ_STORIES_TOOL_PARSER (a --tool-call-parser name) reads its auto replies with that parser instead of the
        // constrained default, so a long run can fuzz the parsers that have no server of their own here.
        var parser = Environment.GetEnvironmentVariable("ESTUARY_FUZZ_STORIES_TOOL_PARSER") is { Length: > 0 } name
            ? ToolCallParserNames.ByName[name] : ToolCallParser.Constrained;
        await FuzzAsync(fx.Stories, "stories260k", tools: parser);
    }

    [Fact]
    public async Task Seeded_fuzzing_never_breaks_a_byte_level_model_with_a_chat_template()
    {
        using var engine = new AsyncLlmEngine(LlmEngine.Load(ByteLevelTestModel.Write(Path.Combine(_dir, "model"), Template),
            new EngineConfig { NumThreads = 1, NumKvBlocks = 128, MaxNumSeqs = 8 }));
        Assert.True(engine.Engine.Tokenizer.IsByteLevel);
        await FuzzAsync(engine, "byte-level", tools: ToolCallParser.Mistral); // auto replies read for [TOOL_CALLS], as vLLM's mistral parser
    }

    [Fact]
    public async Task Seeded_fuzzing_never_breaks_a_reasoning_server_with_the_hermes_parser()
    {
        // The scripted model thinks before it answers (<think>Let me</think>Four after the generation prompt), served with
        // --reasoning-parser qwen3 and --tool-call-parser hermes: replies are split, constraints deferred to </think>.
        var dir = ScriptedTestModel.Write(Path.Combine(_dir, "reasoning"), Template, ["<think>", "</think>"], tok =>
            [[.. tok.Encode("\n\n", false)[^1..], tok.PieceToId("<think>")!.Value, .. tok.Encode("Let me", false), tok.PieceToId("</think>")!.Value,
              .. tok.Encode("Four", false)]]);
        using var engine = new AsyncLlmEngine(LlmEngine.Load(dir, new EngineConfig { NumThreads = 1, NumKvBlocks = 128, MaxNumSeqs = 8 }));
        await FuzzAsync(engine, "reasoning", ReasoningParser.Qwen3, ToolCallParser.Hermes, responsesStore: 16);
    }

    [Fact]
    public void The_same_seed_builds_the_same_requests()
    {
        for (int i = 0; i < 50; i++)
        {
            var a = ServerFuzzer.Build(7, i, FuzzSeeds.All);
            var b = ServerFuzzer.Build(7, i, FuzzSeeds.All);
            Assert.Equal((a.Path, a.ContentType, a.Hangup, a.Description), (b.Path, b.ContentType, b.Hangup, b.Description));
            Assert.Equal(a.Body, b.Body);
        }
        Assert.NotEqual(ServerFuzzer.Build(7, 0, FuzzSeeds.All).Body, ServerFuzzer.Build(8, 0, FuzzSeeds.All).Body);
    }

    private async Task FuzzAsync(AsyncLlmEngine engine, string label, ReasoningParser reasoning = ReasoningParser.None,
        ToolCallParser tools = ToolCallParser.Constrained, int responsesStore = 0)
    {
        int seed = Setting("ESTUARY_FUZZ_SEED", 20261202);
        int count = Setting("ESTUARY_FUZZ_COUNT", 300);
        int concurrency = Setting("ESTUARY_FUZZ_CONCURRENCY", 4);
        // A small queue, so concurrent n > 1 requests also meet the 503 path.
        var server = EstuaryServer.Create(engine, ChatFormats.ForModel(engine.Engine.ModelDirectory!, engine.Engine.Tokenizer),
            new ServerOptions
            {
                ServedModelName = "fuzzed", Host = "127.0.0.1", Port = 0, MaxQueue = 8, ReasoningParser = reasoning, ToolCallParser = tools,
                ResponsesStoreCapacity = responsesStore,
            }, logging => { });
        await server.StartAsync();
        try
        {
            using var client = ServerFixture.NewClient(new Uri(server.Addresses[0]));
            client.Timeout = Timeout.InfiniteTimeSpan; // the fuzzer's own timeout tells a hang apart
            var before = await ChoicesAsync(client);
            foreach (var (path, body) in FuzzSeeds.All)
            {
                using var response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"seed {path} {body}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }

            var started = DateTime.UtcNow;
            // ESTUARY_FUZZ_LOG=DIR writes every request's outcome and error body, to read the messages the fuzzing produced.
            using var log = Environment.GetEnvironmentVariable("ESTUARY_FUZZ_LOG") is { Length: > 0 } logDir
                ? new StreamWriter(Path.Combine(logDir, $"fuzz-{label}-{seed}.log")) : null;
            var report = await ServerFuzzer.RunAsync(client, seed, count, concurrency, TimeSpan.FromSeconds(20), FuzzSeeds.All, log);
            output.WriteLine($"{label}: seed {seed}, {report} in {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
            Assert.True(report.Failures.Count == 0,
                $"{report.Failures.Count} of {count} fuzzed requests broke a rule (seed {seed}):\n{string.Join("\n", report.Failures.Take(25))}");

            Assert.Equal(before, await ChoicesAsync(client));
            await ServerFixture.AssertAllBlocksFreeAsync(engine);
            Assert.Equal(0, server.NumInFlight);
            var metrics = await client.GetStringAsync("/metrics");
            Assert.Contains("\nestuary_num_requests_running 0\n", metrics);
            Assert.Contains("\nestuary_num_requests_waiting 0\n", metrics);
        }
        finally
        {
            await server.StopAsync();
            await server.DisposeAsync();
        }
    }

    private static async Task<string> ChoicesAsync(HttpClient client)
    {
        using var response = await client.PostAsync("/v1/completions", new StringContent(Reference, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("choices").GetRawText();
    }
}
