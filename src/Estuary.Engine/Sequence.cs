// One request's tokens and engine state: computed-token count, KV blocks, block hashes, RNG, detokenizer and stop state.
// Invariant: NumComputedTokens ≤ NumTokens; Blocks hold KV for the first NumComputedTokens tokens (and, during a step, for
// its draft tokens after them).
using Estuary.Engine.KvCache;
using Estuary.Engine.Sampling;
using Estuary.Engine.Structured;

namespace Estuary.Engine;

/// <summary>A generation request as the engine tracks it.</summary>
public sealed class Sequence
{
    private readonly List<int> _tokens;

    internal Sequence(string requestId, int[] promptIds, SamplingParams sampling, long arrivalIndex, int maxTokens, StopChecker stop)
    {
        RequestId = requestId;
        Sampling = sampling;
        NumPromptTokens = promptIds.Length;
        _tokens = new List<int>(promptIds.Length + Math.Min(maxTokens, 4096));
        _tokens.AddRange(promptIds);
        ArrivalIndex = arrivalIndex;
        MaxTokens = maxTokens;
        Rng = new Random(sampling.Seed.HasValue ? unchecked((int)(sampling.Seed.Value ^ (sampling.Seed.Value >> 32))) : Random.Shared.Next());
        Stop = stop;
        if (sampling.PromptLogprobs.HasValue) PromptLogprobs = new List<SampleResult>(Math.Max(0, promptIds.Length - 1));
    }

    /// <summary>Caller's id.</summary>
    public string RequestId { get; }
    /// <summary>Sampling settings.</summary>
    public SamplingParams Sampling { get; }
    /// <summary>Effective output limit (max_tokens capped by the context length).</summary>
    public int MaxTokens { get; }
    /// <summary>Prompt length.</summary>
    public int NumPromptTokens { get; }
    /// <summary>Prompt plus output length.</summary>
    public int NumTokens => _tokens.Count;
    /// <summary>Generated tokens so far.</summary>
    public int NumOutputTokens => _tokens.Count - NumPromptTokens;
    /// <summary>Tokens whose KV is in the cache.</summary>
    public int NumComputedTokens { get; internal set; }
    /// <summary>Tokens served from the prefix cache at the last admission.</summary>
    public int NumCachedTokens { get; internal set; }
    /// <summary>Lifecycle state.</summary>
    public SequenceStatus Status { get; internal set; } = SequenceStatus.Waiting;
    /// <summary>Why it finished, once finished.</summary>
    public FinishReason? FinishReason { get; internal set; }
    /// <summary>How often it was preempted.</summary>
    public int NumPreemptions { get; internal set; }
    /// <summary>Stopwatch timestamp of the request's arrival.</summary>
    public long ArrivalTimestamp { get; } = System.Diagnostics.Stopwatch.GetTimestamp();
    /// <summary>Stopwatch timestamp of its first admission to the running batch (0 until then).</summary>
    public long FirstScheduledTimestamp { get; internal set; }
    /// <summary>Arrival order (lower = older = higher priority).</summary>
    public long ArrivalIndex { get; }

    /// <summary>Token at position <paramref name="i"/> of prompt + output.</summary>
    public int TokenAt(int i) => _tokens[i];
    /// <summary>Prompt ids.</summary>
    public IReadOnlyList<int> PromptIds => _tokens.GetRange(0, NumPromptTokens);
    /// <summary>Generated ids.</summary>
    public IReadOnlyList<int> OutputIds => _tokens.GetRange(NumPromptTokens, NumOutputTokens);
    /// <summary>All tokens (prompt + output), read-only.</summary>
    internal List<int> Tokens => _tokens;

    internal List<KvBlock> Blocks { get; } = [];
    internal List<BlockHash> BlockHashes { get; } = [];
    internal int NumBlocksOfferedToCache { get; set; }
    internal Random Rng { get; }
    internal StopChecker Stop { get; }
    internal bool IsFinished => Status == SequenceStatus.Finished;
    internal int[][] BadWordIds { get; init; } = [];
    /// <summary>The request's logit_bias as parallel arrays (ids, values), so the sampler walks them without allocating.</summary>
    internal int[] LogitBiasIds { get; init; } = [];
    internal float[] LogitBiasValues { get; init; } = [];
    /// <summary>allowed_token_ids as a bitmask over the vocabulary (bit i set ⇒ id i may be sampled); null = every id.</summary>
    internal ulong[]? AllowedTokenMask { get; init; }
    /// <summary>LoRA adapter id (its slot) of every token (0 = base model).</summary>
    internal int LoraId { get; init; }
    /// <summary>
    /// The adapter's prefix-cache identity (0 = base model): seeds the prefix hashes so adapters never share KV, including an adapter
    /// loaded later into the same slot.
    /// </summary>
    internal long LoraCacheKey { get; init; }

    /// <summary>Log-probabilities of prompt tokens 1, 2, … as computed so far (null when not requested).</summary>
    internal List<SampleResult>? PromptLogprobs { get; }
    /// <summary>Whether some prompt token still lacks its log-probability (its logits row is needed, the prefix cache is not used).</summary>
    internal bool NeedsPromptLogprobs => PromptLogprobs != null && PromptLogprobs.Count < NumPromptTokens - 1;
    /// <summary>Whether the prompt log-probabilities went out with an output already.</summary>
    internal bool PromptLogprobsDelivered { get; set; }

    /// <summary>The structured-output automaton the output must follow (null = free text).</summary>
    internal GrammarAutomaton? Guide { get; set; }
    /// <summary>Where the output stands in <see cref="Guide"/>.</summary>
    internal GrammarState? GuideState { get; set; }
    /// <summary>Whether <see cref="Guide"/> applies yet: false until the token of <see cref="SamplingParams.StructuredOutputAfterTokenId"/> is generated.</summary>
    internal bool GuideActive { get; set; }

    /// <summary>Draft tokens proposed for this step (speculative decoding), verified after its forward pass; empty otherwise.</summary>
    internal List<int> Draft { get; } = [];

    internal void AppendToken(int tokenId) => _tokens.Add(tokenId);
}
