// What one Schedule() call decided: the sequences to run this step and those preempted to make room.
namespace Estuary.Engine.Scheduling;

/// <summary>The step's plan; lists are reused between steps.</summary>
public sealed class SchedulerOutput
{
    /// <summary>Sequences in the step, running ones first, in batch order.</summary>
    public List<ScheduledSequence> Scheduled { get; } = [];

    /// <summary>Sequences preempted in this step.</summary>
    public List<Sequence> Preempted { get; } = [];

    /// <summary>Sequences that can never fit the KV cache alone and were finished with reason length.</summary>
    public List<Sequence> FinishedForCapacity { get; } = [];

    /// <summary>T: total tokens scheduled.</summary>
    public int NumBatchedTokens { get; internal set; }

    internal void Clear()
    {
        Scheduled.Clear();
        Preempted.Clear();
        FinishedForCapacity.Clear();
        NumBatchedTokens = 0;
    }
}
