// The order in which waiting requests are admitted and running ones preempted, vLLM's --scheduling-policy fcfs|priority.
// Separate from SchedulingPolicy (TensorRT-LLM's capacity policies, which decide how much is reserved): the two combine.
namespace Estuary.Engine.Scheduling;

/// <summary>Which request goes first.</summary>
public enum RequestOrder
{
    /// <summary>First come, first served: admit in arrival order; preempt the newest running request.</summary>
    Fcfs,
    /// <summary>
    /// By <see cref="SamplingParams.Priority"/> (lower first), arrival order among equals: admit the best waiting request;
    /// preempt the running request with the highest value (the newest among equals).
    /// </summary>
    Priority,
}
