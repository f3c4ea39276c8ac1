// A token id with its log-probability.
namespace Estuary.Engine.Sampling;

/// <summary>Log-probability of a token under the model's raw distribution.</summary>
public readonly record struct TokenLogprob(int TokenId, float Logprob);
