// What one benchmark request measured, timed on the client (as vLLM's benchmark_serving does).
namespace Estuary.Bench.Stats;

/// <summary>One request's timings and token counts.</summary>
public sealed record RequestResult
{
    /// <summary>Workload index.</summary>
    public int Index { get; init; }
    /// <summary>Whether a complete response arrived.</summary>
    public bool Success { get; init; }
    /// <summary>Failure description.</summary>
    public string? Error { get; init; }
    /// <summary>Prompt tokens (server usage when reported, else the tokenizer's count).</summary>
    public int PromptTokens { get; init; }
    /// <summary>Generated tokens (server usage when reported, else the tokenizer's count of the text).</summary>
    public int OutputTokens { get; init; }
    /// <summary>Whether the token counts came from the server's usage.</summary>
    public bool CountsFromServer { get; init; }
    /// <summary>Output tokens the request asked for (max_tokens with ignore_eos); 0 when unknown.</summary>
    public int RequestedOutputTokens { get; init; }
    /// <summary>Seconds from send to the first generated text.</summary>
    public double Ttft { get; init; }
    /// <summary>Seconds from send to the last byte.</summary>
    public double Latency { get; init; }
    /// <summary>Seconds between successive streamed chunks after the first.</summary>
    public IReadOnlyList<double> InterTokenLatencies { get; init; } = [];
    /// <summary>Seconds from the benchmark's start to the send.</summary>
    public double StartOffset { get; init; }
    /// <summary>Generated text.</summary>
    public string Text { get; init; } = "";

    /// <summary>Time per output token after the first: (latency − TTFT) / (output − 1); 0 for single-token outputs.</summary>
    public double Tpot => OutputTokens > 1 ? (Latency - Ttft) / (OutputTokens - 1) : 0;
}
