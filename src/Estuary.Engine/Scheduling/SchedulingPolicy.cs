// Admission/eviction policies, named as in TensorRT-LLM's batch manager.
namespace Estuary.Engine.Scheduling;

/// <summary>How the scheduler trades throughput against preemption.</summary>
public enum SchedulingPolicy
{
    /// <summary>Admit greedily; when blocks run out, preempt the newest running sequence and recompute it later.</summary>
    MaxUtilization,
    /// <summary>Admit only when blocks for prompt + max_tokens are free (reserved up front); never preempt.</summary>
    GuaranteedNoEvict,
}
