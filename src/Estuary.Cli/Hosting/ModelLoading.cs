// Loads an engine with a progress bar on stderr (so --json output on stdout stays clean) and one summary line.
using Estuary.Engine;
using Estuary.Models.Config;
using Spectre.Console;

namespace Estuary.Cli.Hosting;

/// <summary>Engine loading with progress.</summary>
internal static class ModelLoading
{
    public static IAnsiConsole ErrorConsole { get; } = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    public static LlmEngine Load(string modelDir, EngineConfig config, bool quiet = false, IReadOnlyDictionary<string, string>? loras = null)
    {
        if (!Directory.Exists(modelDir)) throw new UsageException($"model directory '{modelDir}' does not exist");
        int layers = ModelConfig.Load(modelDir).NumLayers;
        LlmEngine? engine = null;
        var started = System.Diagnostics.Stopwatch.StartNew();
        if (quiet || Console.IsErrorRedirected)
        {
            engine = LlmEngine.Load(modelDir, config, loras: loras);
        }
        else
        {
            ErrorConsole.Progress().AutoClear(true).Start(ctx =>
            {
                var task = ctx.AddTask($"Loading {Path.GetFileName(Path.GetFullPath(modelDir).TrimEnd('/'))}", maxValue: layers);
                engine = LlmEngine.Load(modelDir, config, new SyncProgress<int>(n => task.Value = n), loras);
                task.Value = layers;
            });
        }
        if (!quiet)
        {
            var mc = engine!.ModelConfig;
            Console.Error.WriteLine($"loaded {mc.Architecture} ({mc.NumLayers} layers, hidden {mc.HiddenSize}, {mc.PositionEncoding}) " +
                $"{engine.Model.WeightBytes / 1e6:F1} MB of weights in {started.Elapsed.TotalSeconds:F2} s; " +
                $"KV cache {engine.NumKvBlocks} blocks × {config.BlockSize} tokens; {engine.Model.Backend.Name} backend");
            if (engine.Tokenizer.UnreadAddedTokens is { Count: > 0 } unread)
                Console.Error.WriteLine($"warning: tokenizer_config.json lists {unread.Count} added token(s) past tokenizer.model's " +
                    $"{engine.Tokenizer.VocabSize} pieces ({string.Join(", ", unread.Take(4).Select(t => $"{t.Content} = {t.Id}"))}" +
                    $"{(unread.Count > 4 ? ", …" : "")}), which Estuary does not read for SentencePiece folders: text naming them " +
                    "(a chat template's markers) is encoded as plain text, and the model cannot produce them");
            long cacheTokens = (long)engine.NumKvBlocks * config.BlockSize;
            if (cacheTokens < engine.MaxModelLen)
                Console.Error.WriteLine($"warning: the KV cache holds {cacheTokens} tokens, fewer than the {engine.MaxModelLen}-token context: " +
                    "no request can grow past that (give more blocks or memory, or a smaller --max-model-len)");
        }
        return engine!;
    }
}
