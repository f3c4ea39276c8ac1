// Continuous batching, vLLM v1 style: no prefill/decode phases; each sequence catches up on its uncomputed tokens within a
// per-step token budget (chunked prefill), running sequences first, then new ones. Sees the KV cache only through KvCacheManager.
// Invariant: a sequence is in exactly one of waiting/running until finished; preempted sequences hold no blocks; under
// RequestOrder.Priority the waiting list stays sorted by (priority, arrival).
using System.Diagnostics;
using Estuary.Engine.KvCache;

namespace Estuary.Engine.Scheduling;

/// <summary>Chooses which tokens of which sequences run in each step.</summary>
internal sealed class Scheduler(SchedulerConfig config, KvCacheManager kvCache, NgramProposer? proposer = null)
{
    private readonly LinkedList<Sequence> _waiting = new();
    private readonly List<Sequence> _running = [];
    private readonly SchedulerOutput _output = new();

    /// <summary>Sequences waiting for admission (including preempted ones, first).</summary>
    public int NumWaiting => _waiting.Count;
    /// <summary>Sequences holding KV blocks.</summary>
    public int NumRunning => _running.Count;
    /// <summary>Total preemptions so far.</summary>
    public long NumPreemptions { get; private set; }
    /// <summary>Whether any sequence is unfinished.</summary>
    public bool HasUnfinished => _waiting.Count > 0 || _running.Count > 0;

    /// <summary>Queues a new sequence.</summary>
    public void Add(Sequence seq)
    {
        seq.Status = SequenceStatus.Waiting;
        if (config.Order == RequestOrder.Priority) InsertByPriority(seq);
        else _waiting.AddLast(seq);
    }

    /// <summary>Plans the next step.</summary>
    public SchedulerOutput Schedule()
    {
        _output.Clear();
        int budget = config.MaxNumBatchedTokens;
        bool preempted = false;
        bool speculate = proposer is not null && !(config.SpeculativeDisableBySize is { } limit && _running.Count + _waiting.Count >= limit);
        // 1. Running sequences, oldest first: decodes and continuing prefill chunks.
        for (int i = 0; i < _running.Count && budget > 0; i++)
        {
            var seq = _running[i];
            int numNew = Math.Min(seq.NumTokens - seq.NumComputedTokens, budget);
            if (!config.EnableChunkedPrefill && numNew < seq.NumTokens - seq.NumComputedTokens) continue;
            Debug.Assert(numNew > 0, "running sequence with nothing to compute");
            // A decoding sequence may verify draft tokens in the same pass, if their KV slots are free (drafts never preempt) and
            // every running sequence after it keeps at least one token of the budget (drafts never delay another's decode).
            seq.Draft.Clear();
            if (speculate && numNew == 1 && seq.NumTokens - seq.NumComputedTokens == 1) ProposeDraft(seq, budget - (_running.Count - i - 1));
            if (seq.Draft.Count > 0 && !kvCache.TryAllocateSlots(seq, 1 + seq.Draft.Count)) seq.Draft.Clear();
            bool allocated = true;
            while (!kvCache.TryAllocateSlots(seq, numNew))
            {
                Debug.Assert(config.Policy == SchedulingPolicy.MaxUtilization, "guaranteed_no_evict reserved every block at admission");
                var victim = Victim();
                if (victim == seq && _running.Count == 1)
                {
                    // Alone and still out of blocks: the cache can never hold this sequence.
                    _running.RemoveAt(_running.Count - 1);
                    kvCache.Free(seq);
                    _output.FinishedForCapacity.Add(seq);
                    allocated = false;
                    break;
                }
                int victimIndex = _running.IndexOf(victim);
                Preempt(victim);
                preempted = true;
                if (victimIndex < i)
                {
                    // Under priority order the victim may have been scheduled earlier in this step: it gives its tokens back.
                    i--;
                    budget += Unschedule(victim);
                }
                if (victim == seq)
                {
                    allocated = false;
                    break;
                }
            }
            if (!allocated)
            {
                i--;
                continue;
            }
            _output.Scheduled.Add(new ScheduledSequence(seq, numNew + seq.Draft.Count));
            budget -= numNew + seq.Draft.Count;
        }
        // 2. Waiting sequences, in order, while budget, sequence slots and blocks last (not in a step that had to preempt).
        while (!preempted && _waiting.First != null && budget > 0 && _running.Count < config.MaxNumSeqs)
        {
            var seq = _waiting.First.Value;
            var cached = kvCache.GetComputedBlocks(seq);
            int cachedTokens = cached.Count * kvCache.BlockSize;
            int remaining = seq.NumTokens - cachedTokens;
            int numNew = Math.Min(remaining, budget);
            if (!config.EnableChunkedPrefill && numNew < remaining) break;
            int toReserve = config.Policy == SchedulingPolicy.GuaranteedNoEvict
                ? Math.Max(numNew, seq.NumPromptTokens + seq.MaxTokens - cachedTokens)
                : numNew;
            if (!kvCache.TryAllocateSlots(seq, toReserve, cached)) break;
            _waiting.RemoveFirst();
            seq.Status = SequenceStatus.Running;
            if (seq.FirstScheduledTimestamp == 0) seq.FirstScheduledTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
            _running.Add(seq);
            _output.Scheduled.Add(new ScheduledSequence(seq, numNew));
            budget -= numNew;
        }
        _output.NumBatchedTokens = config.MaxNumBatchedTokens - budget;
        return _output;
    }

    /// <summary>Removes a finished or aborted sequence and frees its blocks.</summary>
    public void Finish(Sequence seq)
    {
        if (seq.Status == SequenceStatus.Running) _running.Remove(seq);
        else _waiting.Remove(seq);
        kvCache.Free(seq);
        seq.Status = SequenceStatus.Finished;
    }

    // Fills seq.Draft with up to k tokens the prompt-lookup proposer finds, within the step's budget and the request's output
    // limit (the verified pass also yields one token of its own; the limit is capped by the context, so drafts never pass it).
    // Prompt scoring runs token by token. (A structured-output sequence drafts too: each row is masked with the grammar state
    // after the tokens accepted before it, so a draft the grammar forbids is simply not sampled.)
    private void ProposeDraft(Sequence seq, int budget)
    {
        if (proposer is null || seq.NeedsPromptLogprobs) return;
        int room = Math.Min(config.NumSpeculativeTokens, budget - 1);
        room = Math.Min(room, seq.MaxTokens - seq.NumOutputTokens - 1);
        if (room > 0) proposer.Propose(seq.Tokens, room, seq.Draft);
    }

    // FCFS: the newest running sequence. Priority: the highest (priority, arrival), i.e. the least urgent, newest among equals.
    private Sequence Victim()
    {
        if (config.Order == RequestOrder.Fcfs) return _running[^1];
        var victim = _running[0];
        foreach (var seq in _running)
            if (ComesBefore(victim, seq)) victim = seq;
        return victim;
    }

    private static bool ComesBefore(Sequence a, Sequence b) =>
        a.Sampling.Priority != b.Sampling.Priority ? a.Sampling.Priority < b.Sampling.Priority : a.ArrivalIndex < b.ArrivalIndex;

    // Keeps the waiting list sorted by (priority, arrival): a new request goes after every one that comes before it, and a
    // preempted one (older) ahead of newer requests of its priority.
    private void InsertByPriority(Sequence seq)
    {
        var node = _waiting.Last;
        while (node != null && ComesBefore(seq, node.Value)) node = node.Previous;
        if (node is null) _waiting.AddFirst(seq);
        else _waiting.AddAfter(node, seq);
    }

    // Takes a preempted sequence out of this step's plan; returns the tokens it had been given.
    private int Unschedule(Sequence seq)
    {
        var scheduled = _output.Scheduled;
        for (int j = 0; j < scheduled.Count; j++)
        {
            if (scheduled[j].Sequence != seq) continue;
            int tokens = scheduled[j].NumScheduledTokens;
            scheduled.RemoveAt(j);
            return tokens;
        }
        return 0;
    }

    private void Preempt(Sequence victim)
    {
        victim.Draft.Clear();
        _running.Remove(victim);
        kvCache.Free(victim);
        victim.NumComputedTokens = 0;
        victim.NumCachedTokens = 0;
        victim.Status = SequenceStatus.Preempted;
        victim.NumPreemptions++;
        NumPreemptions++;
        if (config.Order == RequestOrder.Priority) InsertByPriority(victim);
        else _waiting.AddFirst(victim);
        _output.Preempted.Add(victim);
    }
}
