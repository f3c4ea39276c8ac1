// `estuary bench offline`: engine throughput without HTTP — N requests at once; requests/s, tokens/s, peak KV blocks, preemptions.
using System.CommandLine;
using Estuary.Bench.Running;
using Estuary.Bench.Workloads;
using Estuary.Cli.Hosting;
using Spectre.Console;

namespace Estuary.Cli.Commands;

/// <summary>Builds `bench offline`.</summary>
internal static class BenchOfflineCommand
{
    public static Command Create()
    {
        var engineOptions = new EngineOptions();
        var inputLength = new Option<int>("--input-len") { Description = "Prompt tokens per request", DefaultValueFactory = _ => 512 };
        var outputLength = new Option<int>("--output-len") { Description = "Output tokens per request (ignore_eos)", DefaultValueFactory = _ => 128 };
        var numPrompts = new Option<int>("--num-prompts") { Description = "Requests submitted at once", DefaultValueFactory = _ => 16 };
        var seed = new Option<int>("--seed") { Description = "Prompt seed", DefaultValueFactory = _ => 0 };
        var mixLoras = new Option<bool>("--mix-loras") { Description = "Spread the requests round-robin over the loaded --lora adapters" };
        var prompts = new Option<string?>("--prompts") { Description = "Real prompts instead of random ones: a JSONL file of {\"prompt\": text, \"output_len\"?: n} (the first --num-prompts lines; --output-len where output_len is absent)" };
        var structured = new StructuredOutputOptions();
        var command = new Command("offline", "Engine throughput without HTTP");
        engineOptions.AddTo(command);
        structured.AddTo(command);
        foreach (var o in new Option[] { inputLength, outputLength, numPrompts, seed, mixLoras, prompts }) command.Options.Add(o);
        command.SetAction(r =>
        {
            using var engine = ModelLoading.Load(engineOptions.ModelDirectory(r), engineOptions.ToConfig(r), loras: engineOptions.Loras(r));
            var constraint = structured.Read(r);
            if (constraint is not null && engine.ValidateStructuredOutput(constraint) is { } problem) throw new UsageException(problem);
            var work = r.GetValue(prompts) is { } file
                ? JsonlWorkload.Read(file, engine.Tokenizer, r.GetValue(outputLength), r.GetValue(numPrompts))
                : RandomWorkload.Build(engine.Tokenizer, r.GetValue(numPrompts), r.GetValue(inputLength), r.GetValue(outputLength), r.GetValue(seed));
            OfflineResult? result = null;
            ModelLoading.ErrorConsole.Progress().AutoClear(true).Start(ctx =>
            {
                var task = ctx.AddTask("requests", maxValue: work.Count);
                var names = engineOptions.Loras(r)?.Keys.ToArray() ?? [];
                if (r.GetValue(mixLoras) && names.Length == 0) throw new UsageException("--mix-loras needs at least one --lora NAME=DIR");
                result = OfflineResult.Run(engine, work, new SyncProgress<int>(n => task.Value = n),
                    r.GetValue(mixLoras) ? req => names[req.Index % names.Length] : null, constraint);
            });
            var t = new Table().AddColumns("measure", "value");
            var shape = r.GetValue(prompts) is null ? $"{r.GetValue(inputLength)} in / {r.GetValue(outputLength)} out"
                : $"{result!.PromptTokens / (double)result.NumRequests:F0} in (mean, from {r.GetValue(prompts)}) / {result.OutputTokens / (double)result.NumRequests:F0} out";
            t.AddRow("requests", Markup.Escape($"{result!.NumRequests} × {shape}" +
                (constraint is null ? "" : $" at most, {constraint}; {result.OutputTokens} generated")));
            t.AddRow("elapsed", $"{result.Seconds:F2} s in {result.Steps} steps");
            t.AddRow("throughput", $"{result.RequestsPerSecond:F3} req/s, {result.OutputTokensPerSecond:F1} output tok/s, {result.TotalTokensPerSecond:F1} total tok/s");
            t.AddRow("KV blocks", $"peak {result.PeakUsedKvBlocks} of {result.NumKvBlocks}");
            t.AddRow("preemptions", $"{result.Preemptions}");
            if (result.DraftTokens > 0)
                t.AddRow("speculative", $"{result.AcceptedDraftTokens} of {result.DraftTokens} draft tokens accepted ({100.0 * result.AcceptedDraftTokens / result.DraftTokens:F1} %)");
            AnsiConsole.Write(t);
            return 0;
        });
        return command;
    }
}
