// `estuary bench compare`: starts the continuous-batching server and the naive (HF + Flask style) server on loopback in turn,
// runs the same sweep against each (in alternating rounds when asked), and writes the combined chart and table, with the roofline
// ratio next to the measured one.
using System.CommandLine;
using System.Globalization;
using Estuary.Bench.Clients;
using Estuary.Bench.Output;
using Estuary.Bench.Stats;
using Estuary.Cli.Bench;
using Estuary.Cli.Hosting;
using Estuary.Engine;
using Estuary.Server;
using Estuary.Tokenization;
using Spectre.Console;

namespace Estuary.Cli.Commands;

/// <summary>Builds `bench compare`.</summary>
internal static class BenchCompareCommand
{
    public static Command Create()
    {
        var engineOptions = new EngineOptions();
        var outputLens = new Option<string?>("--output-lens") { Description = "Comma-separated output lengths, one comparison each (default 128; --full: 128,256)" };
        var full = new Option<bool>("--full") { Description = "The full sweep: concurrency 1,2,4,8,16,32,64 and output lengths 128 and 256" };
        var api = new Option<string>("--api") { Description = "openai, triton or inference", DefaultValueFactory = _ => "openai" };
        var rounds = new Option<int>("--rounds")
        {
            Description = "Rounds per output length, the servers alternating (continuous then naive, naive then continuous, …) so both meet " +
                "the same phases of a shared machine; the table shows every round's ratio and the pooled one (all tokens over all time)",
            DefaultValueFactory = _ => 1,
        };
        var w = new WorkloadOptions();
        var command = new Command("compare", "Continuous batching vs the naive one-at-a-time server, same model and kernels, one chart");
        engineOptions.AddTo(command);
        w.AddTo(command);
        foreach (var o in new Option[] { outputLens, full, api, rounds }) command.Options.Add(o);
        command.SetAction(async (r, ct) =>
        {
            var dir = engineOptions.ModelDirectory(r);
            var config = engineOptions.ToConfig(r);
            bool isFull = r.GetValue(full);
            int roundCount = r.GetValue(rounds);
            if (roundCount < 1) throw new UsageException($"--rounds must be at least 1 (got {roundCount})");
            w.CheckOut(r);
            var levels = WorkloadOptions.ParseLevels(r.GetResult(w.Concurrency) is { Implicit: false } ? r.GetValue(w.Concurrency)! : isFull ? "1,2,4,8,16,32,64" : "1,2,4,8,16");
            var lens = WorkloadOptions.ParsePositiveInts(r.GetValue(outputLens) ?? (isFull ? "128,256" : "128"), "--output-lens");
            var tokenizer = TextTokenizer.Load(dir);
            var comparisons = new List<Comparison>();
            foreach (int outputLength in lens)
            {
                int maxLen = Math.Min(config.MaxModelLen ?? int.MaxValue, Estuary.Models.Config.ModelConfig.Load(dir).MaxPositions);
                int inputLength = Math.Min(r.GetValue(w.InputLength), maxLen - outputLength - 16);
                if (inputLength < 1) throw new UsageException($"--output-len {outputLength} leaves no room for a prompt in the {maxLen}-token context");
                if (inputLength != r.GetValue(w.InputLength)) Console.Error.WriteLine($"note: input length {inputLength} (the model's context is {maxLen} tokens)");
                int? perLevel = r.GetValue(w.NumPrompts) is > 0 and var given ? given : null;
                int n = SweepSettings.PromptsNeeded(levels, perLevel, r.GetValue(w.Warmup), rateMode: false);
                var work = Estuary.Bench.Workloads.RandomWorkload.Build(tokenizer, n, inputLength, outputLength, r.GetValue(w.Seed));
                var sweep = new SweepSettings(work, levels, null, r.GetValue(w.Seed), r.GetValue(w.Warmup), inputLength, outputLength)
                    { PromptsPerLevel = perLevel, DisjointLevels = true, RequestTimeout = w.ReadRequestTimeout(r) };
                var comparison = new Comparison(outputLength);
                for (int round = 0; round < roundCount; round++)
                {
                    // Alternate the order (A B, B A, A B, …) so that a host getting faster or slower during the run does not favour
                    // the server that always runs first.
                    bool naiveFirst = round % 2 == 1;
                    if (roundCount > 1) Console.Error.WriteLine($"{inputLength} in / {outputLength} out, round {round + 1} of {roundCount}: " +
                        (naiveFirst ? "naive, then continuous" : "continuous, then naive"));
                    Task<BenchRun> Naive() => RunOne(dir, config.AsNaiveBaseline(), "naive-one-at-a-time", sweep, r.GetValue(api)!, tokenizer, ct, null);
                    if (naiveFirst) comparison.Naive.Add(await Naive());
                    comparison.Continuous.Add(await RunOne(dir, config, "estuary-continuous", sweep, r.GetValue(api)!, tokenizer, ct,
                        e => comparison.Times.Add(StepTimes.Measure(e, inputLength, outputLength, Math.Min(16, levels.Max())))));
                    if (!naiveFirst) comparison.Naive.Add(await Naive());
                }
                comparisons.Add(comparison);
            }
            foreach (var c in comparisons) Report(c, r.GetValue(w.Out));
            return 0;
        });
        return command;
    }

    // One output length's rounds: each round's continuous and naive runs and the continuous engine's step times.
    private sealed record Comparison(int OutputLength)
    {
        public List<BenchRun> Continuous { get; } = [];
        public List<BenchRun> Naive { get; } = [];
        public List<StepTimes> Times { get; } = [];
    }

    private static void Report(Comparison c, string? outDir)
    {
        var cont = RoundPooling.Pool(c.Continuous);
        var naive = RoundPooling.Pool(c.Naive);
        int rounds = c.Continuous.Count;
        // The pooled row's roofline: the median of the rounds' step times, each kind separately.
        double Median(Func<StepTimes, double> kind) => CpuBenchmark.Median([.. c.Times.Select(kind)]);
        var times = c.Times[0] with { Prefill = Median(t => t.Prefill), Decode1 = Median(t => t.Decode1), DecodeC = Median(t => t.DecodeC) };
        var title = $"continuous vs naive, {cont.InputLength} in / {c.OutputLength} out" + (rounds > 1 ? $", {rounds} rounds alternating (pooled: all tokens over all time)" : "");
        var table = new Table().Title(title);
        table.AddColumns([.. new[] { "conc.", "round" }.Take(rounds > 1 ? 2 : 1), "out tok/s cont.", "out tok/s naive", "ratio", "roofline ratio",
            "TTFT p50 cont. ms", "TTFT p50 naive ms", "TTFT ratio"]);
        void Row(int level, string round, LevelResult cl, LevelResult nl, StepTimes t) => table.AddRow([
            .. new[] { level.ToString(CultureInfo.InvariantCulture), round }.Take(rounds > 1 ? 2 : 1),
            $"{cl.OutputThroughput:F1}", $"{nl.OutputThroughput:F1}", $"{cl.OutputThroughput / Math.Max(nl.OutputThroughput, 1e-9):F2}×",
            level == t.Concurrency ? $"{(t with { Concurrency = level }).PredictedRatio(c.OutputLength):F2}×" : "",
            $"{cl.TtftMs.Median:F0}", $"{nl.TtftMs.Median:F0}", $"{cl.TtftMs.Median / Math.Max(nl.TtftMs.Median, 1e-9):F2}"]);
        for (int i = 0; i < cont.Levels.Count; i++)
        {
            if (rounds > 1)
                for (int k = 0; k < rounds; k++)
                    Row(cont.Levels[i].Concurrency, (k + 1).ToString(CultureInfo.InvariantCulture), c.Continuous[k].Levels[i], c.Naive[k].Levels[i], c.Times[k]);
            Row(cont.Levels[i].Concurrency, rounds > 1 ? "pooled" : "", cont.Levels[i], naive.Levels[i], times);
        }
        AnsiConsole.Write(table);
        foreach (var t in c.Times)
            Console.Error.WriteLine($"step times: prefill {t.Prefill * 1000:F1} ms ({cont.InputLength} tokens), decode at {t.DecodeContext} tokens " +
                $"of context {t.Decode1 * 1000:F1} ms (1 seq), {t.DecodeC * 1000:F1} ms ({t.Concurrency} seqs)");
        if (outDir is null) return;
        var stem = $"compare-{cont.InputLength}-{c.OutputLength}";
        ResultWriter.Write(outDir, stem + "-continuous", cont);
        ResultWriter.Write(outDir, stem + "-naive", naive);
        if (rounds > 1)
            for (int k = 0; k < rounds; k++)
            {
                ResultWriter.Write(outDir, $"{stem}-continuous-round{k + 1}", c.Continuous[k]);
                ResultWriter.Write(outDir, $"{stem}-naive-round{k + 1}", c.Naive[k]);
            }
        File.WriteAllText(Path.Combine(outDir, stem + "-steps.json"), System.Text.Json.JsonSerializer.Serialize(c.Times));
        ThroughputChart.Save(Path.Combine(outDir, stem + ".png"), [cont, naive]);
        Console.Error.WriteLine($"wrote {Path.Combine(outDir, stem)}-*.json/csv and {stem}.png");
    }

    private static async Task<BenchRun> RunOne(string dir, EngineConfig config, string label, SweepSettings sweep, string api,
        TextTokenizer tokenizer, CancellationToken ct, Action<LlmEngine>? beforeServing)
    {
        var engine = ModelLoading.Load(dir, config, quiet: true);
        beforeServing?.Invoke(engine);
        using var asyncEngine = new AsyncLlmEngine(engine);
        var format = ChatFormats.ForModel(dir, engine.Tokenizer);
        await using var server = EstuaryServer.Create(asyncEngine, format, new ServerOptions { Host = "127.0.0.1", Port = 0, ServedModelName = "model", MaxQueue = 4096 }, _ => { });
        await server.StartAsync(ct);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
        var uri = new Uri(server.Addresses[0].TrimEnd('/') + "/");
        IBenchClient client = api switch
        {
            "openai" => new OpenAiBenchClient(http, uri, "model", chat: false, tokenizer),
            "triton" => new TritonBenchClient(http, uri, "model", stream: true, tokenizer),
            "inference" => new InferenceBenchClient(http, uri, tokenizer),
            _ => throw new UsageException($"--api must be openai, triton or inference (got '{api}')"),
        };
        var run = await SweepRunner.RunAsync(client, sweep, label, uri.ToString(), "model", ct);
        await server.StopAsync(ct);
        return run;
    }
}
