// Continuous batching, vLLM v1 style: no prefill/decode phases; each sequence catches up on its uncomputed tokens within a
// per-step token budget (chunked prefill), running sequences first, then new ones. Sees the KV cache only through KvCacheManager.
// Invariant: a sequence is in exactly one of waiting/running until finished; preempted sequences hold no blocks.
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
        _waiting.AddLast(seq);
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
                var victim = _running[^1];
                if (victim == seq && _running.Count == 1)
                {
                    // Alone and still out of blocks: the cache can never hold this sequence.
                    _running.RemoveAt(_running.Count - 1);
                    kvCache.Free(seq);
                    _output.FinishedForCapacity.Add(seq);
                    allocated = false;
                    break;
                }
                Preempt(victim);
                preempted = true;
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
        _waiting.AddFirst(victim);
        _output.Preempted.Add(victim);
    }
}
