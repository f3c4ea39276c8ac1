// `estuary bench structured`: what structured output costs per token on a model folder's real vocabulary (mask and advance
// times, cold and cached), to set against a decode step's time.
using System.CommandLine;
using Estuary.Cli.Bench;
using Estuary.Cli.Hosting;
using Estuary.Tokenization;
using Spectre.Console;

namespace Estuary.Cli.Commands;

internal static class BenchStructuredCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Model folder (or a folder with only its tokenizer files); default: the embedded model" };
        var structured = new StructuredOutputOptions();
        var sequences = new Option<int>("--sequences") { Description = "Sequences to walk", DefaultValueFactory = _ => 50 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most tokens per sequence", DefaultValueFactory = _ => 256 };
        var seed = new Option<int>("--seed") { Description = "Seed of the random token choices", DefaultValueFactory = _ => 0 };
        var command = new Command("structured", "Structured-output cost per token (token masks, advances) on a real vocabulary");
        command.Options.Add(model);
        structured.AddTo(command);
        foreach (var o in new Option[] { sequences, maxTokens, seed }) command.Options.Add(o);
        command.SetAction(r =>
        {
            var spec = structured.Read(r) ?? throw new UsageException("give the constraint to measure: --json-schema, --regex, --choice or --grammar");
            if (r.GetValue(sequences) < 1 || r.GetValue(maxTokens) < 1) throw new UsageException("--sequences and --max-tokens must be at least 1");
            var tokenizer = TextTokenizer.Load(DefaultModel.Resolve(r.GetValue(model)));
            var x = StructuredBenchmark.Run(tokenizer, spec, r.GetValue(sequences), r.GetValue(maxTokens), r.GetValue(seed));
            var t = new Table().AddColumns("measure", "value");
            t.AddRow("vocabulary", $"{x.VocabSize} tokens, trie of {x.TrieNodes} nodes built in {x.TrieBuildMs:F1} ms");
            t.AddRow("compile", Markup.Escape($"{x.CompileMs:F1} ms ({spec})"));
            t.AddRow("walked", $"{x.Sequences} sequences, {x.Tokens} tokens, {x.Completed} complete");
            t.AddRow("mask, new state", $"{x.ColdMasks} × {x.ColdMaskUsMean:F0} µs mean (max {x.ColdMaskUsMax / 1000:F1} ms)");
            t.AddRow("mask, cached state", $"{x.WarmMasks} × {x.WarmMaskUsMean:F2} µs mean");
            t.AddRow("advance past a token", $"{x.AdvanceUsMean:F2} µs mean");
            double perToken = (x.ColdMasks * x.ColdMaskUsMean + x.WarmMasks * x.WarmMaskUsMean) / Math.Max(1, x.ColdMasks + x.WarmMasks) + x.AdvanceUsMean;
            t.AddRow("per token, this walk", $"{perToken:F0} µs");
            AnsiConsole.Write(t);
            return 0;
        });
        return command;
    }
}
