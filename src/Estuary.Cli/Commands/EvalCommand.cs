// `estuary eval perplexity`: perplexity on held-out text with the fixtures' protocol, comparable across quantizations.
using System.CommandLine;
using Estuary.Cli.Hosting;
using Estuary.Engine.Evaluation;
using Spectre.Console;

namespace Estuary.Cli.Commands;

/// <summary>Builds the eval command family.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var eval = new Command("eval", "Model quality measurements");
        var engineOptions = new EngineOptions();
        var text = new Option<string>("--text") { Description = "UTF-8 text file (encoded as one stream, no BOS/EOS)", Required = true };
        var window = new Option<int>("--window") { Description = "Window length in tokens (non-overlapping; first token of each not scored)", DefaultValueFactory = _ => 256 };
        var perplexity = new Command("perplexity", "Perplexity of a model on a text file");
        engineOptions.AddTo(perplexity);
        perplexity.Options.Add(text);
        perplexity.Options.Add(window);
        perplexity.SetAction(r =>
        {
            var path = r.GetValue(text)!;
            if (r.GetValue(window) < 2) throw new UsageException($"--window must be at least 2 tokens (got {r.GetValue(window)})");
            if (!File.Exists(path))
                throw new UsageException(Directory.Exists(path) ? $"--text: '{path}' is a folder, not a file" : $"--text: file '{path}' does not exist");
            using var engine = ModelLoading.Load(engineOptions.ModelDirectory(r), engineOptions.ToConfig(r) with { NumKvBlocks = 1, MaxNumSeqs = 1 });
            var ids = engine.Tokenizer.Encode(File.ReadAllText(path), addSpecialTokens: false);
            var started = System.Diagnostics.Stopwatch.StartNew();
            PerplexityResult? result = null;
            int total = (ids.Length + r.GetValue(window) - 1) / r.GetValue(window);
            ModelLoading.ErrorConsole.Progress().AutoClear(true).Start(ctx =>
            {
                var task = ctx.AddTask("Evaluating windows", maxValue: total);
                result = PerplexityEvaluator.Evaluate(engine.Model, ids, r.GetValue(window), new SyncProgress<int>(n => task.Value = n),
                    engine.Config.KvCacheDType ?? Estuary.Tensors.DType.F32);
            });
            Console.WriteLine($"perplexity {result!.Perplexity:F5}  mean_nll {result.MeanNll:F6}  windows {result.NumWindows}  " +
                $"scored_tokens {result.NumScoredTokens}  tokens {result.NumTokens}  ({started.Elapsed.TotalSeconds:F1} s)");
            return 0;
        });
        eval.Subcommands.Add(perplexity);
        return eval;
    }
}
