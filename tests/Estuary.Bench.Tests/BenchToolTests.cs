// The benchmark's building blocks: exact-length random prompts, vLLM-style metric definitions, result files and charts, offline runs.
using Estuary.Bench.Output;
using Estuary.Bench.Running;
using Estuary.Bench.Stats;
using Estuary.Bench.Workloads;
using Estuary.Engine;
using Estuary.Testing;
using Estuary.Tokenization;

namespace Estuary.Bench.Tests;

public class BenchToolTests
{
    [Theory]
    [InlineData("stories260k", 64)]
    [InlineData("baichuan2-tiny-rope", 128)]
    public void RandomPromptsEncodeToExactlyTheRequestedLength(string model, int length)
    {
        var tokenizer = TextTokenizer.Load(Fixtures.Path(model));
        var work = RandomWorkload.Build(tokenizer, 6, length, 16, seed: 3);
        Assert.Equal(6, work.Count);
        foreach (var r in work)
        {
            Assert.Equal(length, tokenizer.Encode(r.Prompt, addSpecialTokens: false).Length);
            Assert.Equal(length, r.PromptIds.Length);
        }
        Assert.NotEqual(work[0].Prompt, work[1].Prompt);
        Assert.Equal(work[0].Prompt, RandomWorkload.Build(tokenizer, 6, length, 16, seed: 3)[0].Prompt); // seeded
    }

    [Fact]
    public void SummaryUsesInterpolatedPercentiles()
    {
        var s = Summary.Of([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        Assert.Equal(5.5, s.Mean, 9);
        Assert.Equal(5.5, s.Median, 9);
        Assert.Equal(9.1, s.P90, 9);
        Assert.Equal(9.91, s.P99, 9);
        Assert.Equal(0, Summary.Of([]).Mean);
    }

    [Fact]
    public void LevelMetricsFollowBenchmarkServingDefinitions()
    {
        var requests = new[]
        {
            new RequestResult { Index = 0, Success = true, PromptTokens = 10, OutputTokens = 5, Ttft = 0.1, Latency = 0.5, StartOffset = 0, InterTokenLatencies = [0.1, 0.1, 0.1, 0.1] },
            new RequestResult { Index = 1, Success = true, PromptTokens = 10, OutputTokens = 3, Ttft = 0.2, Latency = 0.4, StartOffset = 0.5, InterTokenLatencies = [0.1, 0.1] },
            new RequestResult { Index = 2, Success = false, Error = "HTTP 500", Latency = 0.1, StartOffset = 0.2 },
        };
        var l = LevelResult.From(2, null, duration: 1.0, requests);
        Assert.Equal(2, l.Completed);
        Assert.Equal(1, l.Failed);
        Assert.Equal(8, l.TotalOutputTokens);
        Assert.Equal(8.0, l.OutputThroughput, 9);
        Assert.Equal(28.0, l.TotalTokenThroughput, 9);
        Assert.Equal(2.0, l.RequestThroughput, 9);
        Assert.Equal(150, l.TtftMs.Mean, 6);
        Assert.Equal(100, l.TpotMs.Mean, 6);      // (0.5-0.1)/4 and (0.4-0.2)/2 are both 0.1 s
        Assert.Equal(100, l.ItlMs.Median, 6);
        Assert.Equal(450, l.E2eMs.Mean, 6);
    }

    [Fact]
    public void PooledRoundsAreAllTokensOverAllTimeAndEveryRequest()
    {
        static RequestResult Ok(int output, double ttft) => new() { Success = true, PromptTokens = 8, OutputTokens = output, Ttft = ttft, Latency = ttft + 0.5 };
        BenchRun Round(double duration, params RequestResult[] requests) => new()
        {
            Label = "estuary", Api = "openai", Target = "t", InputLength = 8, OutputLength = 4, NumPrompts = requests.Length,
            Levels = [LevelResult.From(2, null, duration, requests)],
        };
        // 40 tokens in 2 s and 20 tokens in 8 s: the pooled rate is 60 / 10 = 6 tok/s, not the mean of 20 and 2.5.
        var a = Round(2.0, Ok(20, 0.1), Ok(20, 0.3));
        var b = Round(8.0, Ok(10, 0.2), Ok(10, 0.4), new RequestResult { Success = false, Error = "HTTP 500" });
        var pooled = RoundPooling.Pool([a, b]);
        var l = Assert.Single(pooled.Levels);
        Assert.Equal(6.0, l.OutputThroughput, 12);
        Assert.Equal(10.0, l.Duration, 12);
        Assert.Equal(4, l.Completed);
        Assert.Equal(1, l.Failed);
        Assert.Equal(250, l.TtftMs.Median, 9); // the median of 100, 200, 300, 400 ms
        Assert.Equal(5, pooled.NumPrompts);
        Assert.Same(a, RoundPooling.Pool([a]));
        var other = a with { Levels = [a.Levels[0] with { Concurrency = 4 }] };
        Assert.Contains("round 2", Assert.Throws<ArgumentException>(() => RoundPooling.Pool([a, other])).Message);
        Assert.Throws<ArgumentException>(() => RoundPooling.Pool([]));
    }

    [Fact]
    public void ResultsRoundTripAndChartsAreWritten()
    {
        var dir = Directory.CreateTempSubdirectory("estuary-bench-").FullName;
        try
        {
            var level = LevelResult.From(4, null, 2.0, [new RequestResult { Success = true, PromptTokens = 8, OutputTokens = 4, Ttft = 0.1, Latency = 0.3 }]);
            var run = new BenchRun { Label = "estuary", Api = "openai-chat", Target = "http://127.0.0.1:1/", InputLength = 8, OutputLength = 4, NumPrompts = 1, Levels = [level, level with { Concurrency = 8 }] };
            var json = ResultWriter.Write(dir, "estuary", run);
            var back = ResultWriter.Read(json);
            Assert.Equal("estuary", back.Label);
            Assert.Equal(2, back.Levels.Count);
            Assert.Equal(level.OutputThroughput, back.Levels[0].OutputThroughput);
            Assert.Equal(3, File.ReadAllLines(Path.Combine(dir, "estuary-levels.csv")).Length);
            var png = Path.Combine(dir, "chart.png");
            ThroughputChart.Save(png, [run, back with { Label = "naive" }]);
            var bytes = File.ReadAllBytes(png);
            Assert.True(bytes.Length > 1000);
            Assert.Equal(0x89, bytes[0]); // PNG signature
            Assert.Throws<InvalidDataException>(() => ResultWriter.Read(Path.Combine(dir, "estuary-levels.csv")));

            // All three files or none: a folder where the requests CSV should go fails the write before any file lands.
            Directory.CreateDirectory(Path.Combine(dir, "x-requests.csv"));
            Assert.Contains("it is a folder", Assert.Throws<IOException>(() => ResultWriter.Write(dir, "x", run)).Message);
            Assert.False(File.Exists(Path.Combine(dir, "x.json")));
            Assert.False(File.Exists(Path.Combine(dir, "x-levels.csv")));
            Assert.Empty(Directory.GetFiles(dir, "*.tmp"));

            // Hand-edited or foreign files: a null level (was a NullReferenceException in the chart), no levels, a negative rate.
            string Edited(string name, string text)
            {
                var path = Path.Combine(dir, name);
                File.WriteAllText(path, text);
                return path;
            }
            var original = File.ReadAllText(json);
            int at = original.IndexOf("\"levels\"", StringComparison.Ordinal);
            string head = original[..at];
            Assert.EndsWith("level 0 is null", Assert.Throws<InvalidDataException>(() => ResultWriter.Read(Edited("a.json", head + "\"levels\":[null]}"))).Message);
            Assert.EndsWith("the result has no levels", Assert.Throws<InvalidDataException>(() => ResultWriter.Read(Edited("b.json", head + "\"levels\":[]}"))).Message);
            var negative = new System.Text.RegularExpressions.Regex("\"output_throughput\": [0-9.eE+-]+").Replace(original, "\"output_throughput\": -50", 1);
            Assert.NotEqual(original, negative);
            Assert.Contains("has a negative or non-numeric value", Assert.Throws<InvalidDataException>(() => ResultWriter.Read(Edited("c.json", negative))).Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void OfflineRunCountsEveryToken()
    {
        using var engine = LlmEngine.Load(Fixtures.Path("stories260k"), new EngineConfig { BlockSize = 4, NumKvBlocks = 40 });
        var work = RandomWorkload.Build(engine.Tokenizer, 8, 40, 20, seed: 1);
        var result = OfflineResult.Run(engine, work);
        Assert.Equal(8 * 20, result.OutputTokens);
        Assert.Equal(8 * 40, result.PromptTokens);
        Assert.True(result.PeakUsedKvBlocks <= 40);
        Assert.True(result.Preemptions > 0); // 8 × 60 tokens need 120 blocks of 4; only 40 exist
        Assert.Equal(engine.NumKvBlocks, engine.Stats.NumFreeKvBlocks);
    }
}
