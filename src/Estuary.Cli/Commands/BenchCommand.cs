// `estuary bench cpu`: the engine-core speed report (decode vs bandwidth bound, batched decode, prompt processing vs FMA peak).
using System.CommandLine;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Estuary.Cli.Bench;
using Estuary.Cli.Hosting;
using Spectre.Console;

namespace Estuary.Cli.Commands;

/// <summary>Builds the bench command family.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Benchmarks");
        bench.Subcommands.Add(CreateCpu());
        bench.Subcommands.Add(BenchServeCommand.Create());
        bench.Subcommands.Add(BenchPlotCommand.Create());
        bench.Subcommands.Add(BenchOfflineCommand.Create());
        bench.Subcommands.Add(BenchCompareCommand.Create());
        bench.Subcommands.Add(BenchDecodeCommand.Create());
        bench.Subcommands.Add(BenchStructuredCommand.Create());
        return bench;
    }

    private static Command CreateCpu()
    {
        var engineOptions = new EngineOptions();
        var decodeTokens = new Option<int>("--decode-tokens") { Description = "Tokens per decode measurement", DefaultValueFactory = _ => 32 };
        var batch = new Option<int>("--batch") { Description = "Concurrent sequences for the batched-decode measurement", DefaultValueFactory = _ => 8 };
        var promptLength = new Option<int>("--prompt-len") { Description = "Prompt length for the prompt-processing measurement", DefaultValueFactory = _ => 512 };
        var repeats = new Option<int>("--repeats") { Description = "Rounds of all measurements (medians are reported; ratios are taken within each round)", DefaultValueFactory = _ => 3 };
        var command = new Command("cpu", "Decode and prompt speed on the CPU next to the machine's bandwidth bound and FMA peak");
        engineOptions.AddTo(command);
        foreach (var o in new Option[] { decodeTokens, batch, promptLength, repeats }) command.Options.Add(o);
        command.SetAction(r =>
        {
            var config = engineOptions.ToConfig(r);
            int p = r.GetValue(promptLength);
            foreach (var (option, value) in new[] { ("--decode-tokens", r.GetValue(decodeTokens)), ("--batch", r.GetValue(batch)), ("--prompt-len", p), ("--repeats", r.GetValue(repeats)) })
                if (value < 1) throw new UsageException($"{option} must be at least 1 (got {value})");
            config = config with { MaxNumBatchedTokens = Math.Max(config.MaxNumBatchedTokens, p), MaxNumSeqs = Math.Max(config.MaxNumSeqs, r.GetValue(batch)), EnablePrefixCaching = false };
            using var engine = ModelLoading.Load(engineOptions.ModelDirectory(r), config);
            if (p >= engine.MaxModelLen)
            {
                // The prompt needs room for the one token its measurement samples (the embedded model's context is 512).
                p = engine.MaxModelLen - 1;
                Console.Error.WriteLine($"note: prompt length {p} (the model's context is {engine.MaxModelLen} tokens)");
            }
            int threads = config.NumThreads ?? Environment.ProcessorCount;
            var result = CpuBenchmark.Run(engine, threads, r.GetValue(decodeTokens), r.GetValue(batch), p, r.GetValue(repeats));
            var table = new Table().AddColumns("measure", "value");
            table.AddRow("threads", $"{threads} (AVX2 {Avx2.IsSupported}, FMA {Fma.IsSupported}, AVX-512 {Avx512F.IsSupported})");
            table.AddRow("copy bandwidth (read+write)", $"{result.CopyBandwidth / 1e9:F2} GB/s");
            table.AddRow("FMA peak (fp32, widest vectors)", $"{result.FmaPeak / 1e9:F1} GFLOP/s{(Vector512.IsHardwareAccelerated ? $" (Vector512; Vector256: {result.FmaPeak256 / 1e9:F1})" : "")}");
            table.AddRow("weight bytes read per token", $"{result.WeightBytesPerToken / 1e6:F1} MB");
            table.AddRow("decode bound (bandwidth / bytes)", $"{result.DecodeBoundTokensPerSecond:F2} tok/s");
            table.AddRow("decode, 1 sequence", $"{result.DecodeTokensPerSecond:F2} tok/s ({result.DecodeFractionOfBound:P0} of bound¹)");
            table.AddRow($"decode, {result.BatchSize} sequences", $"{result.BatchDecodeTokensPerSecond:F2} tok/s ({result.BatchSpeedup:F2}× one sequence¹)");
            table.AddRow($"prompt, {result.PromptLength} tokens", $"{result.PromptTokensPerSecond:F1} tok/s, {result.PrefillFlopsPerSecond / 1e9:F1} GFLOP/s ({result.PrefillFractionOfPeak:P0} of FMA peak¹)");
            AnsiConsole.Write(table);
            Console.WriteLine($"Medians of {result.Rounds} rounds; each round probes copy bandwidth, decodes one and {result.BatchSize} sequences, probes the FMA " +
                "peak and processes one prompt. ¹ Median over rounds of the ratio within a round (not the ratio of the medians).");
            return 0;
        });
        return command;
    }
}
