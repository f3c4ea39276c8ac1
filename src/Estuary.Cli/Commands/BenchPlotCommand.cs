// `estuary bench plot A.json B.json --labels …`: one chart with a line per deployment, from saved results.
using System.CommandLine;
using Estuary.Bench.Output;
using Estuary.Cli.Hosting;

namespace Estuary.Cli.Commands;

/// <summary>Builds `bench plot`.</summary>
internal static class BenchPlotCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("results") { Description = "Result JSON files written by bench serve/compare --out", Arity = ArgumentArity.OneOrMore };
        var labels = new Option<string?>("--labels") { Description = "Comma-separated line labels, one per file (default: each run's label)" };
        var output = new Option<string>("--output", "-o") { Description = "PNG to write", DefaultValueFactory = _ => "throughput.png" };
        var title = new Option<string?>("--title") { Description = "Chart title" };
        var command = new Command("plot", "Combine benchmark results into one throughput-vs-concurrency chart");
        command.Arguments.Add(files);
        foreach (var o in new Option[] { labels, output, title }) command.Options.Add(o);
        command.SetAction(r =>
        {
            var paths = r.GetValue(files)!;
            var runs = paths.Select(ResultWriter.Read).ToList();
            if (r.GetValue(labels) is { } text)
            {
                var names = text.Split(',', StringSplitOptions.TrimEntries);
                if (names.Length != runs.Count) throw new UsageException($"--labels has {names.Length} labels for {runs.Count} files");
                runs = runs.Select((run, i) => run with { Label = names[i] }).ToList();
            }
            ThroughputChart.Save(r.GetValue(output)!, runs, r.GetValue(title));
            Console.Error.WriteLine($"wrote {r.GetValue(output)}");
            return 0;
        });
        return command;
    }
}
