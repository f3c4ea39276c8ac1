// `estuary bench decode`: single-sequence decode tokens/s of several models (e.g. one checkpoint in BF16, INT8 and INT4), loaded
// together and measured in alternation, with each model's median and its per-round ratio to the first model.
using System.CommandLine;
using Estuary.Cli.Bench;
using Estuary.Cli.Hosting;
using Estuary.Engine;
using Spectre.Console;

namespace Estuary.Cli.Commands;

/// <summary>Builds `bench decode`.</summary>
internal static class BenchDecodeCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--models") { Description = "Model directories; ratios are to the first", Required = true, AllowMultipleArgumentsPerToken = true };
        var rounds = new Option<int>("--rounds") { Description = "Measurements per model, alternating between the models", DefaultValueFactory = _ => 5 };
        var decodeTokens = new Option<int>("--decode-tokens") { Description = "Tokens per measurement (after a 16-token prompt)", DefaultValueFactory = _ => 32 };
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: all cores)" };
        var kvBlocks = new Option<int>("--num-kv-blocks") { Description = "KV blocks per model (16 tokens each)", DefaultValueFactory = _ => 64 };
        var command = new Command("decode", "Single-sequence decode speed of several models, measured in alternation in one process");
        foreach (var o in new Option[] { models, rounds, decodeTokens, threads, kvBlocks }) command.Options.Add(o);
        command.SetAction(r =>
        {
            string[] dirs = r.GetValue(models) ?? [];
            if (dirs.Length == 0) throw new UsageException("--models needs at least one model directory");
            int n = r.GetValue(rounds), tokens = r.GetValue(decodeTokens), blocks = r.GetValue(kvBlocks);
            if (n < 1) throw new UsageException($"--rounds must be at least 1 (got {n})");
            if (tokens < 1) throw new UsageException($"--decode-tokens must be at least 1 (got {tokens})");
            if (blocks * 16 < 16 + tokens + 1) throw new UsageException($"--num-kv-blocks {blocks} holds {blocks * 16} tokens; a measurement needs {17 + tokens}");
            var config = new EngineConfig { NumThreads = r.GetValue(threads), NumKvBlocks = blocks, MaxNumSeqs = 1, EnablePrefixCaching = false };
            var engines = new List<LlmEngine>();
            try
            {
                foreach (var dir in dirs) engines.Add(ModelLoading.Load(DefaultModel.Resolve(dir), config));
                DecodeComparison? result = null;
                ModelLoading.ErrorConsole.Progress().AutoClear(true).Start(ctx =>
                {
                    var task = ctx.AddTask("rounds", maxValue: n);
                    result = DecodeComparison.Run(engines, n, tokens, done => task.Value = done);
                });
                var table = new Table().AddColumns("model", "weights MB", "tok/s median", "tok/s min–max", "× first, median", "× first, min–max");
                for (int m = 0; m < engines.Count; m++)
                {
                    var (lo, hi) = result!.RatioRange(m);
                    table.AddRow(Markup.Escape(Path.GetFileName(Path.GetFullPath(dirs[m]).TrimEnd('/'))), $"{engines[m].Model.WeightBytes / 1e6:F0}",
                        $"{result.Median(m):F2}", $"{result.Samples[m].Min():F2}–{result.Samples[m].Max():F2}", $"{result.MedianRatioToFirst(m):F2}", $"{lo:F2}–{hi:F2}");
                }
                AnsiConsole.Write(table);
                for (int m = 0; m < engines.Count; m++) // one plain line per model, for logs and scripts
                {
                    var (lo, hi) = result!.RatioRange(m);
                    Console.WriteLine($"{dirs[m]}: {result.Median(m):F2} tok/s median, {result.MedianRatioToFirst(m):F2}× first (rounds {lo:F2}–{hi:F2})");
                }
                Console.WriteLine($"{n} rounds of {tokens} tokens, {config.NumThreads ?? Environment.ProcessorCount} threads; each round measures every model once " +
                    "(listed order, reversed on odd rounds); × first is the median over rounds of the ratio to the first model in the same round");
            }
            finally
            {
                foreach (var e in engines) e.Dispose();
            }
            return 0;
        });
        return command;
    }
}
