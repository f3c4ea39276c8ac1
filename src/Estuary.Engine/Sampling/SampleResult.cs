// The token the sampler chose for one sequence, with log-probabilities when requested.
namespace Estuary.Engine.Sampling;

/// <summary>A sampled token.</summary>
/// <param name="TokenId">The chosen id.</param>
/// <param name="Logprob">Its log-probability under the raw model distribution (NaN when not requested).</param>
/// <param name="TopLogprobs">The most likely tokens, best first (null when not requested).</param>
/// <param name="Rank">1 + the number of tokens the model found more likely (computed for prompt tokens; 0 when not).</param>
public readonly record struct SampleResult(int TokenId, float Logprob, TokenLogprob[]? TopLogprobs, int Rank = 0);
