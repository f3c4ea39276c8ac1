// The complete result of one offline request.
using Estuary.Engine.Sampling;

namespace Estuary.Engine;

/// <summary>A finished generation.</summary>
public sealed record GenerationResult(int[] PromptIds, int[] OutputIds, string Text, FinishReason FinishReason,
    IReadOnlyList<SampleResult>? Logprobs = null, IReadOnlyList<SampleResult>? PromptLogprobs = null);
