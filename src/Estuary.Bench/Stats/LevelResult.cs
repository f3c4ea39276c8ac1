// The metrics of one concurrency level, with vLLM benchmark_serving's definitions (latencies in milliseconds).
namespace Estuary.Bench.Stats;

/// <summary>Aggregated metrics of one benchmark level.</summary>
public sealed record LevelResult
{
    /// <summary>Concurrency limit (0 when driven by a request rate).</summary>
    public int Concurrency { get; init; }
    /// <summary>Poisson request rate (requests/s), or null for a closed-loop concurrency run.</summary>
    public double? RequestRate { get; init; }
    /// <summary>Wall time of the level, first send to last completion (s).</summary>
    public double Duration { get; init; }
    /// <summary>Completed requests.</summary>
    public int Completed { get; init; }
    /// <summary>Failed requests.</summary>
    public int Failed { get; init; }
    /// <summary>Prompt tokens of completed requests.</summary>
    public long TotalInputTokens { get; init; }
    /// <summary>Generated tokens of completed requests.</summary>
    public long TotalOutputTokens { get; init; }
    /// <summary>Completed / duration.</summary>
    public double RequestThroughput { get; init; }
    /// <summary>Generated tokens / duration.</summary>
    public double OutputThroughput { get; init; }
    /// <summary>(Prompt + generated tokens) / duration.</summary>
    public double TotalTokenThroughput { get; init; }
    /// <summary>Time to first token (ms).</summary>
    public required Summary TtftMs { get; init; }
    /// <summary>Time per output token, excluding the first (ms).</summary>
    public required Summary TpotMs { get; init; }
    /// <summary>Inter-token latency over all streamed chunks (ms).</summary>
    public required Summary ItlMs { get; init; }
    /// <summary>End-to-end latency (ms).</summary>
    public required Summary E2eMs { get; init; }
    /// <summary>Every request.</summary>
    public IReadOnlyList<RequestResult> Requests { get; init; } = [];

    /// <summary>Aggregates the results of one level.</summary>
    public static LevelResult From(int concurrency, double? rate, double duration, IReadOnlyList<RequestResult> requests)
    {
        var ok = requests.Where(r => r.Success).ToList();
        long input = ok.Sum(r => (long)r.PromptTokens), output = ok.Sum(r => (long)r.OutputTokens);
        double d = Math.Max(duration, 1e-9);
        return new LevelResult
        {
            Concurrency = concurrency,
            RequestRate = rate,
            Duration = duration,
            Completed = ok.Count,
            Failed = requests.Count - ok.Count,
            TotalInputTokens = input,
            TotalOutputTokens = output,
            RequestThroughput = ok.Count / d,
            OutputThroughput = output / d,
            TotalTokenThroughput = (input + output) / d,
            TtftMs = Summary.Of(ok.Select(r => r.Ttft * 1000).ToList()),
            TpotMs = Summary.Of(ok.Where(r => r.OutputTokens > 1).Select(r => r.Tpot * 1000).ToList()),
            ItlMs = Summary.Of(ok.SelectMany(r => r.InterTokenLatencies).Select(x => x * 1000).ToList()),
            E2eMs = Summary.Of(ok.Select(r => r.Latency * 1000).ToList()),
            Requests = requests,
        };
    }
}
