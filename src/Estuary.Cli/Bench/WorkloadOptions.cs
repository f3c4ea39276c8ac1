// Workload and sweep options shared by `bench serve`, `bench compare` and `bench offline`.
using System.CommandLine;
using System.Globalization;
using Estuary.Bench.Output;
using Estuary.Bench.Workloads;
using Estuary.Cli.Hosting;
using Estuary.Tokenization;

namespace Estuary.Cli.Bench;

/// <summary>--input-len, --output-len, --num-prompts, --concurrency, --request-rate, --seed, --warmup, --prompts-file, --out.</summary>
internal sealed class WorkloadOptions
{
    public Option<int> InputLength { get; } = new("--input-len") { Description = "Prompt tokens per request", DefaultValueFactory = _ => 512 };
    public Option<int> OutputLength { get; } = new("--output-len") { Description = "Output tokens per request (ignore_eos)", DefaultValueFactory = _ => 128 };
    public Option<int> NumPrompts { get; } = new("--num-prompts") { Description = "Requests per level (default: each level runs 2 × its concurrency, at least 8)" };
    public Option<string> Concurrency { get; } = new("--concurrency") { Description = "Comma-separated sweep, e.g. 1,2,4,8,16,32,64", DefaultValueFactory = _ => "1,2,4,8" };
    public Option<double?> RequestRate { get; } = new("--request-rate") { Description = "Poisson arrivals at this many requests/s instead of a concurrency sweep" };
    public Option<int> Seed { get; } = new("--seed") { Description = "Workload and arrival seed", DefaultValueFactory = _ => 0 };
    public Option<int> Warmup { get; } = new("--warmup") { Description = "Warm-up requests before measuring", DefaultValueFactory = _ => 1 };
    public Option<string?> PromptsFile { get; } = new("--prompts-file") { Description = "JSONL prompts ({\"prompt\", \"output_len\"?}) instead of random ones" };
    public Option<string?> Out { get; } = new("--out") { Description = "Directory for JSON, CSV and the PNG chart" };
    public Option<double> RequestTimeout { get; } = new("--request-timeout")
    {
        Description = "Seconds a request may take from sending to its last byte before it counts as failed (a stalled stream)",
        DefaultValueFactory = _ => 1800,
    };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { InputLength, OutputLength, NumPrompts, Concurrency, RequestRate, Seed, Warmup, PromptsFile, Out, RequestTimeout })
            command.Options.Add(o);
    }

    public SweepSettings Read(ParseResult r, TextTokenizer tokenizer)
    {
        var levels = ParseLevels(r.GetValue(Concurrency)!);
        int? perLevel = r.GetValue(NumPrompts) is > 0 and var given ? given : null;
        bool rateMode = r.GetValue(RequestRate) is not null;
        // A prompts file is what it is (levels reuse its first prompts); random prompts are drawn fresh for the warm-up and each level.
        bool fromFile = r.GetValue(PromptsFile) is not null;
        IReadOnlyList<BenchRequest> work = r.GetValue(PromptsFile) is { } file
            ? JsonlWorkload.Read(file, tokenizer, r.GetValue(OutputLength), perLevel ?? SweepSettings.DefaultPrompts(levels.Max()))
            : RandomWorkload.Build(tokenizer, SweepSettings.PromptsNeeded(levels, perLevel, r.GetValue(Warmup), rateMode), r.GetValue(InputLength),
                r.GetValue(OutputLength), r.GetValue(Seed));
        return new SweepSettings(work, rateMode ? [0] : levels, r.GetValue(RequestRate), r.GetValue(Seed),
            r.GetValue(Warmup), r.GetValue(InputLength), r.GetValue(OutputLength))
        {
            PromptsPerLevel = perLevel,
            DisjointLevels = !fromFile,
            RequestTimeout = ReadRequestTimeout(r),
        };
    }

    public TimeSpan ReadRequestTimeout(ParseResult r)
    {
        double seconds = r.GetValue(RequestTimeout);
        if (!(seconds > 0) || !double.IsFinite(seconds))
            throw new UsageException($"--request-timeout must be a positive number of seconds (got {seconds})");
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>Refuses an --out that cannot hold the results before the benchmark runs, not after (its results would be lost).</summary>
    public void CheckOut(ParseResult r)
    {
        if (r.GetValue(Out) is not { } dir) return;
        if (File.Exists(dir)) throw new UsageException($"--out: '{dir}' is a file; it must be a folder");
        Directory.CreateDirectory(dir); // an unwritable place fails here, naming the path
        var probe = Path.Combine(dir, $".write-test-{Guid.NewGuid():N}");
        File.WriteAllText(probe, "");
        File.Delete(probe);
    }

    public void WriteOutputs(ParseResult r, BenchRun run)
    {
        if (r.GetValue(Out) is not { } dir) return;
        var stem = Sanitize(run.Label);
        var png = Path.Combine(dir, stem + ".png");
        if (Directory.Exists(png)) throw new IOException($"cannot write the chart '{png}': it is a folder");
        if (File.Exists(Path.Combine(dir, stem + ".json")))
            Console.Error.WriteLine($"note: replacing the results of an earlier run labelled '{run.Label}' in {dir} (--label keeps both)");
        var json = ResultWriter.Write(dir, stem, run);
        ThroughputChart.Save(png, [run]);
        Console.Error.WriteLine($"wrote {json}, {stem}-levels.csv, {stem}-requests.csv and {png}");
    }

    public static int[] ParseLevels(string text) => ParsePositiveInts(text, "--concurrency");

    /// <summary>"1,4, 16" → [1, 4, 16]; anything but a non-empty list of positive integers is a usage error naming <paramref name="option"/>.</summary>
    public static int[] ParsePositiveInts(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i]) || values[i] < 1)
                throw new UsageException($"{option}: '{parts[i]}' is not a positive integer");
        }
        if (values.Length == 0) throw new UsageException($"{option}: no values given");
        return values;
    }

    public static string Sanitize(string label)
    {
        var chars = label.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray();
        return new string(chars);
    }
}
