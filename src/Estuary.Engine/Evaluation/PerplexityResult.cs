// The outcome of a perplexity evaluation.
namespace Estuary.Engine.Evaluation;

/// <summary>Perplexity over non-overlapping windows.</summary>
/// <param name="Perplexity">exp(mean NLL).</param>
/// <param name="MeanNll">Mean negative log-likelihood in nats per scored token.</param>
/// <param name="NumWindows">Windows evaluated.</param>
/// <param name="NumScoredTokens">Tokens scored (each window's first token is not).</param>
/// <param name="NumTokens">Tokens in the text.</param>
public sealed record PerplexityResult(double Perplexity, double MeanNll, int NumWindows, long NumScoredTokens, int NumTokens);
