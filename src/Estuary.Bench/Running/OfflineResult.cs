// Engine throughput without HTTP (vLLM's benchmark_throughput): N requests submitted at once, stepped to completion.
using System.Diagnostics;
using Estuary.Bench.Workloads;
using Estuary.Engine;

namespace Estuary.Bench.Running;

/// <summary>Offline throughput of one engine.</summary>
public sealed record OfflineResult(int NumRequests, double Seconds, long PromptTokens, long OutputTokens, int PeakUsedKvBlocks,
    int NumKvBlocks, long Preemptions, long Steps, long DraftTokens = 0, long AcceptedDraftTokens = 0)
{
    /// <summary>Requests per second.</summary>
    public double RequestsPerSecond => NumRequests / Seconds;
    /// <summary>Generated tokens per second.</summary>
    public double OutputTokensPerSecond => OutputTokens / Seconds;
    /// <summary>Prompt + generated tokens per second.</summary>
    public double TotalTokensPerSecond => (PromptTokens + OutputTokens) / Seconds;

    /// <summary>
    /// Submits every request (with the adapter <paramref name="loraFor"/> picks, if any, and the <paramref name="structured"/>
    /// output constraint, if any: such requests end when their text is complete), steps until all finish, and reports.
    /// </summary>
    public static OfflineResult Run(LlmEngine engine, IReadOnlyList<BenchRequest> work, IProgress<int>? finished = null,
        Func<BenchRequest, string?>? loraFor = null, StructuredOutput? structured = null)
    {
        var start = engine.Stats;
        var sw = Stopwatch.StartNew();
        foreach (var r in work)
            engine.AddRequest($"offline-{r.Index}-{Guid.NewGuid():N}", r.PromptIds, SamplingParams.Greedy(r.OutputLength) with
            {
                IgnoreEos = true,
                LoraName = loraFor?.Invoke(r),
                StructuredOutput = structured,
            });
        long output = 0;
        int done = 0;
        while (engine.HasUnfinishedRequests)
        {
            foreach (var o in engine.Step())
            {
                output += o.NewTokenIds.Count;
                if (o.Finished) finished?.Report(++done);
            }
        }
        var stats = engine.Stats;
        return new OfflineResult(work.Count, sw.Elapsed.TotalSeconds, work.Sum(r => (long)r.PromptIds.Length), output,
            stats.PeakUsedKvBlocks, stats.NumKvBlocks, stats.NumPreemptions - start.NumPreemptions, stats.NumSteps - start.NumSteps,
            stats.NumDraftTokens - start.NumDraftTokens, stats.NumAcceptedDraftTokens - start.NumAcceptedDraftTokens);
    }
}
