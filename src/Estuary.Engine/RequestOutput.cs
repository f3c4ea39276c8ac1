// What a request yields after a step: its new text and tokens, and once finished, why.
using Estuary.Engine.Sampling;

namespace Estuary.Engine;

/// <summary>Incremental output of one request.</summary>
public sealed record RequestOutput
{
    /// <summary>The request.</summary>
    public required string RequestId { get; init; }
    /// <summary>Text produced since the previous output (stop strings never included).</summary>
    public required string NewText { get; init; }
    /// <summary>Token ids produced since the previous output.</summary>
    public required IReadOnlyList<int> NewTokenIds { get; init; }
    /// <summary>Log-probabilities of the new tokens (when requested).</summary>
    public IReadOnlyList<SampleResult>? NewLogprobs { get; init; }
    /// <summary>
    /// Log-probabilities of prompt tokens 1 … P−1 (prompt token 0 has none), once, with the first output after the prompt was
    /// computed (when requested with <see cref="SamplingParams.PromptLogprobs"/>).
    /// </summary>
    public IReadOnlyList<SampleResult>? PromptLogprobs { get; init; }
    /// <summary>Whether the request is done.</summary>
    public bool Finished { get; init; }
    /// <summary>Why it finished.</summary>
    public FinishReason? FinishReason { get; init; }
    /// <summary>Prompt length.</summary>
    public int NumPromptTokens { get; init; }
    /// <summary>Generated tokens so far.</summary>
    public int NumOutputTokens { get; init; }
    /// <summary>Seconds from arrival to the first admission into the running batch (null until admitted).</summary>
    public double? QueueSeconds { get; init; }
    /// <summary>Prompt tokens served from the prefix cache.</summary>
    public int NumCachedTokens { get; init; }
}
