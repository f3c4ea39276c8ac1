// One sequence's share of a step: how many of its tokens are computed now.
namespace Estuary.Engine.Scheduling;

/// <summary>A sequence and the number of its tokens computed in this step (1 for a decode, a chunk for a prefill).</summary>
public readonly record struct ScheduledSequence(Sequence Sequence, int NumScheduledTokens);
