// Lifecycle states of a sequence in the scheduler.
namespace Estuary.Engine;

/// <summary>Where a sequence is in its lifecycle.</summary>
public enum SequenceStatus
{
    /// <summary>Queued, holding no KV blocks.</summary>
    Waiting,
    /// <summary>Scheduled in steps, holding KV blocks.</summary>
    Running,
    /// <summary>Evicted to free blocks; recomputed from its tokens when readmitted.</summary>
    Preempted,
    /// <summary>Done (see <see cref="FinishReason"/>).</summary>
    Finished,
}
