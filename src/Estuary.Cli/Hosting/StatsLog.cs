// The serving log's periodic engine line, as vLLM prints one: prompt and generation throughput over the last interval, running and
// waiting requests, KV-cache use and preemptions. Invariant: an idle engine (no step, nothing queued) prints nothing.
using System.Diagnostics;
using System.Globalization;
using Estuary.Engine;

namespace Estuary.Cli.Hosting;

/// <summary>Periodic engine statistics for the serve log.</summary>
internal static class StatsLog
{
    /// <summary>The line for the interval between two snapshots <paramref name="elapsed"/> apart, or null when nothing happened.</summary>
    public static string? Line(EngineStats previous, EngineStats current, TimeSpan elapsed)
    {
        if (current.NumSteps == previous.NumSteps && current.NumRunning == 0 && current.NumWaiting == 0) return null;
        double seconds = Math.Max(elapsed.TotalSeconds, 1e-9);
        double prompt = (current.NumPromptTokensComputed - previous.NumPromptTokensComputed) / seconds;
        double generation = (current.NumGeneratedTokens - previous.NumGeneratedTokens) / seconds;
        int used = current.NumKvBlocks - current.NumFreeKvBlocks;
        double usage = current.NumKvBlocks == 0 ? 0 : 100.0 * used / current.NumKvBlocks;
        return string.Create(CultureInfo.InvariantCulture,
            $"engine: prompt {prompt:F1} tokens/s, generation {generation:F1} tokens/s, running {current.NumRunning}, " +
            $"waiting {current.NumWaiting}, KV cache {usage:F1}% ({used}/{current.NumKvBlocks} blocks), preemptions {current.NumPreemptions}")
            + DraftAcceptance(previous, current);
    }

    // ", drafts accepted 41.2% (70/170)" over the interval, when speculative decoding proposed any.
    private static string DraftAcceptance(EngineStats previous, EngineStats current)
    {
        long drafts = current.NumDraftTokens - previous.NumDraftTokens, accepted = current.NumAcceptedDraftTokens - previous.NumAcceptedDraftTokens;
        return drafts == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $", drafts accepted {100.0 * accepted / drafts:F1}% ({accepted}/{drafts})");
    }

    /// <summary>Writes a line to <paramref name="output"/> every <paramref name="interval"/> until <paramref name="cancellationToken"/> fires.</summary>
    public static async Task RunAsync(Func<EngineStats> stats, TimeSpan interval, TextWriter output, CancellationToken cancellationToken)
    {
        var previous = stats();
        var clock = Stopwatch.StartNew();
        var last = TimeSpan.Zero;
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = clock.Elapsed;
                var current = stats();
                if (Line(previous, current, now - last) is { } line) output.WriteLine(line);
                previous = current;
                last = now;
            }
        }
        catch (OperationCanceledException)
        {
            // the server stopped
        }
    }
}
