// `estuary bench compare`: starts the continuous-batching server and the naive (HF + Flask style) server on loopback in turn,
// runs the same sweep against each, and writes the combined chart and table, with the roofline ratio next to the measured one.
using System.CommandLine;
using System.Globalization;
using Estuary.Bench.Clients;
using Estuary.Bench.Output;
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
        var w = new WorkloadOptions();
        var command = new Command("compare", "Continuous batching vs the naive one-at-a-time server, same model and kernels, one chart");
        engineOptions.AddTo(command);
        w.AddTo(command);
        foreach (var o in new Option[] { outputLens, full, api }) command.Options.Add(o);
        command.SetAction(async (r, ct) =>
        {
            var dir = engineOptions.ModelDirectory(r);
            var config = engineOptions.ToConfig(r);
            bool isFull = r.GetValue(full);
            var levels = WorkloadOptions.ParseLevels(r.GetResult(w.Concurrency) is { Implicit: false } ? r.GetValue(w.Concurrency)! : isFull ? "1,2,4,8,16,32,64" : "1,2,4,8,16");
            var lens = (r.GetValue(outputLens) ?? (isFull ? "128,256" : "128")).Split(',', StringSplitOptions.TrimEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            var tokenizer = TextTokenizer.Load(dir);
            var runs = new List<(int Output, BenchRun Continuous, BenchRun Naive, StepTimes Times)>();
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
                    { PromptsPerLevel = perLevel, DisjointLevels = true };
                StepTimes? times = null;
                var cont = await RunOne(dir, config, "estuary-continuous", sweep, r.GetValue(api)!, tokenizer, ct, e => times = StepTimes.Measure(e, inputLength, outputLength, Math.Min(16, levels.Max())));
                var naive = await RunOne(dir, config.AsNaiveBaseline(), "naive-one-at-a-time", sweep, r.GetValue(api)!, tokenizer, ct, null);
                runs.Add((outputLength, cont, naive, times!));
            }
            foreach (var (outputLength, cont, naive, times) in runs)
            {
                var table = new Table().Title($"continuous vs naive, {cont.InputLength} in / {outputLength} out");
                table.AddColumns("conc.", "out tok/s cont.", "out tok/s naive", "ratio", "roofline ratio", "TTFT p50 cont. ms", "TTFT p50 naive ms", "TTFT ratio");
                foreach (var c in cont.Levels)
                {
                    var nv = naive.Levels.First(l => l.Concurrency == c.Concurrency);
                    var roof = times with { Concurrency = c.Concurrency };
                    table.AddRow(c.Concurrency.ToString(CultureInfo.InvariantCulture), $"{c.OutputThroughput:F1}", $"{nv.OutputThroughput:F1}",
                        $"{c.OutputThroughput / Math.Max(nv.OutputThroughput, 1e-9):F2}×",
                        c.Concurrency == times.Concurrency ? $"{roof.PredictedRatio(outputLength):F2}×" : "",
                        $"{c.TtftMs.Median:F0}", $"{nv.TtftMs.Median:F0}", $"{c.TtftMs.Median / Math.Max(nv.TtftMs.Median, 1e-9):F2}");
                }
                AnsiConsole.Write(table);
                Console.Error.WriteLine($"step times: prefill {times.Prefill * 1000:F1} ms ({cont.InputLength} tokens), decode at {times.DecodeContext} tokens " +
                    $"of context {times.Decode1 * 1000:F1} ms (1 seq), {times.DecodeC * 1000:F1} ms ({times.Concurrency} seqs)");
                if (r.GetValue(w.Out) is { } outDir)
                {
                    var stem = $"compare-{cont.InputLength}-{outputLength}";
                    ResultWriter.Write(outDir, stem + "-continuous", cont);
                    ResultWriter.Write(outDir, stem + "-naive", naive);
                    File.WriteAllText(Path.Combine(outDir, stem + "-steps.json"), System.Text.Json.JsonSerializer.Serialize(times));
                    ThroughputChart.Save(Path.Combine(outDir, stem + ".png"), [cont, naive]);
                    Console.Error.WriteLine($"wrote {Path.Combine(outDir, stem)}-*.json/csv and {stem}.png");
                }
            }
            return 0;
        });
        return command;
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
