// Runs a sweep level by level with a live progress bar and prints the metrics table (vLLM benchmark_serving's columns).
using Estuary.Bench.Clients;
using Estuary.Bench.Output;
using Estuary.Bench.Running;
using Estuary.Bench.Stats;
using Estuary.Cli.Hosting;
using Spectre.Console;

namespace Estuary.Cli.Bench;

/// <summary>Sweep execution and reporting.</summary>
internal static class SweepRunner
{
    public static async Task<BenchRun> RunAsync(IBenchClient client, SweepSettings s, string label, string target, string model, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        if (s.Warmup > 0) await BenchRunner.WarmupAsync(client, s.WarmupWork, s.Warmup, ct);
        var levels = new List<LevelResult>();
        var console = ModelLoading.ErrorConsole;
        await console.Progress().AutoClear(true).StartAsync(async ctx =>
        {
            for (int i = 0; i < s.Levels.Length; i++)
            {
                int c = s.Levels[i];
                var work = s.WorkForLevel(i);
                var task = ctx.AddTask(s.RequestRate is { } rate ? $"{label} @ {rate} req/s" : $"{label} concurrency {c}", maxValue: work.Count);
                levels.Add(await BenchRunner.RunLevelAsync(client, work, c, s.RequestRate, s.Seed, new SyncProgress<int>(n => task.Value = n), ct, s.RequestTimeout));
            }
        });
        var run = new BenchRun
        {
            Label = label,
            Api = client.Name,
            Target = target,
            Model = model,
            InputLength = s.InputLength,
            OutputLength = s.OutputLength,
            NumPrompts = levels.Sum(l => l.Requests.Count),
            Machine = MachineInfo.Describe(),
            StartedUtc = started,
            Levels = levels,
        };
        Print(run);
        return run;
    }

    public static void Print(BenchRun run)
    {
        var perLevel = run.Levels.Select(l => l.Requests.Count).Distinct().ToArray();
        var table = new Table().Title($"{run.Label}: {run.InputLength} in / {run.OutputLength} out, " +
            (perLevel.Length == 1 ? $"{perLevel[0]} requests per level" : "2 × concurrency (at least 8) requests per level"));
        table.AddColumns("conc.", "ok/fail", "req/s", "out tok/s", "total tok/s", "TTFT mean/p50/p99 ms", "TPOT mean/p50/p99 ms", "ITL p50/p99 ms", "E2E mean/p99 ms");
        foreach (var l in run.Levels)
        {
            // Latencies of a level where nothing succeeded (or of ITL when every response came in one chunk) have no samples: n/a, not 0.
            bool any = l.Completed > 0, anyItl = any && l.Requests.Any(x => x.Success && x.InterTokenLatencies.Count > 0);
            table.AddRow(l.RequestRate is { } r ? $"{r}/s" : l.Concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{l.Completed}/{l.Failed}",
                $"{l.RequestThroughput:F2}", $"{l.OutputThroughput:F1}", $"{l.TotalTokenThroughput:F1}",
                any ? $"{l.TtftMs.Mean:F0}/{l.TtftMs.Median:F0}/{l.TtftMs.P99:F0}" : "n/a",
                any ? $"{l.TpotMs.Mean:F1}/{l.TpotMs.Median:F1}/{l.TpotMs.P99:F1}" : "n/a",
                anyItl ? $"{l.ItlMs.Median:F1}/{l.ItlMs.P99:F1}" : "n/a", any ? $"{l.E2eMs.Mean:F0}/{l.E2eMs.P99:F0}" : "n/a");
        }
        AnsiConsole.Write(table);
        foreach (var l in run.Levels)
            foreach (var e in l.Requests.Where(x => !x.Success).Select(x => x.Error).Distinct().Take(3))
                Console.Error.WriteLine($"failed request at concurrency {l.Concurrency}: {e}");
        if (OffLengthWarning(run) is { } warning) Console.Error.WriteLine(warning);
    }

    /// <summary>
    /// Every request asks for exactly OutputLength tokens (max_tokens with ignore_eos), so a successful one that returned another
    /// number means the server ignored the request, cut it short or miscounted: the throughput counts what was returned. Counts
    /// from the server's usage must match exactly; counts re-tokenized from the text here may drift a little, so only a quarter off
    /// is flagged for those.
    /// </summary>
    public static string? OffLengthWarning(BenchRun run)
    {
        static bool Off(RequestResult x) => x.Success && x.RequestedOutputTokens > 0 && (x.CountsFromServer
            ? x.OutputTokens != x.RequestedOutputTokens
            : Math.Abs(x.OutputTokens - x.RequestedOutputTokens) > x.RequestedOutputTokens / 4.0);
        var off = run.Levels.SelectMany(l => l.Requests).Where(Off).ToList();
        if (off.Count == 0) return null;
        int total = run.Levels.Sum(l => l.Requests.Count(x => x.Success));
        var asked = off.Select(x => x.RequestedOutputTokens).Distinct().ToList();
        return $"warning: {off.Count} of {total} successful requests returned {off.Min(x => x.OutputTokens)}–{off.Max(x => x.OutputTokens)} " +
            $"output tokens where {(asked.Count == 1 ? asked[0].ToString(System.Globalization.CultureInfo.InvariantCulture) : "another number")} " +
            "were asked for (max_tokens with ignore_eos); the throughput counts the tokens returned";
    }
}
