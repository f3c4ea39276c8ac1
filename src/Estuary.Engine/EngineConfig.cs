// Every user-settable engine value, validated once (block size, KV budget, batch limits, policy, caching, threads).
using Estuary.Engine.Scheduling;

namespace Estuary.Engine;

/// <summary>Engine settings.</summary>
public sealed record EngineConfig
{
    /// <summary>B: tokens per KV block.</summary>
    public int BlockSize { get; init; } = 16;
    /// <summary>Explicit number of KV blocks (overrides the memory budget).</summary>
    public int? NumKvBlocks { get; init; }
    /// <summary>KV-cache memory budget in bytes (overrides the fraction).</summary>
    public long? KvCacheMemoryBytes { get; init; }
    /// <summary>KV-cache element type F32, BF16, F16 or I8 (per-vector scales); null = 'auto', the activation dtype (F32 on the CPU backend).</summary>
    public Estuary.Tensors.DType? KvCacheDType { get; init; }
    /// <summary>Fraction of the machine's available memory given to the KV cache when no budget is set.</summary>
    public double KvCacheMemoryFraction { get; init; } = 0.25;
    /// <summary>
    /// vLLM's --max-logprobs: the most logprobs (alternatives per token) and prompt_logprobs a request may ask; -1 = no cap
    /// (the vocabulary size).
    /// </summary>
    public int MaxLogprobs { get; init; } = SamplingParams.DefaultMaxLogprobs;
    /// <summary>Most sequences in one step.</summary>
    public int MaxNumSeqs { get; init; } = 64;
    /// <summary>Most tokens in one step (the chunked-prefill budget).</summary>
    public int MaxNumBatchedTokens { get; init; } = 512;
    /// <summary>Context limit (prompt + output); null = the model's.</summary>
    public int? MaxModelLen { get; init; }
    /// <summary>Admission/eviction policy.</summary>
    public SchedulingPolicy Policy { get; init; } = SchedulingPolicy.MaxUtilization;
    /// <summary>Admission and preemption order (vLLM's fcfs or priority; requests may set a priority only with Priority).</summary>
    public RequestOrder Order { get; init; } = RequestOrder.Fcfs;
    /// <summary>Share full KV blocks between requests with the same prefix (enable_kv_cache_reuse).</summary>
    public bool EnablePrefixCaching { get; init; } = true;
    /// <summary>Split long prompts across steps.</summary>
    public bool EnableChunkedPrefill { get; init; } = true;
    /// <summary>CPU threads (null = all cores).</summary>
    public int? NumThreads { get; init; }
    /// <summary>Most LoRA adapters loaded at once (all of them may run in one step).</summary>
    public int MaxLoras { get; init; } = 16;
    /// <summary>Serve LoRA factors in the model's dtype (vLLM's --lora-dtype auto) instead of as stored (exact, the default).</summary>
    public bool LoraInModelDType { get; init; }
    /// <summary>
    /// Let adapters be loaded and unloaded while the engine runs (vLLM's VLLM_ALLOW_RUNTIME_LORA_UPDATING): every attention and MLP
    /// projection is wrapped at load with <see cref="MaxLoras"/> empty slots. Off by default: the model then carries LoRA wrappers only
    /// where a start-up adapter needs them (none without adapters).
    /// </summary>
    public bool EnableRuntimeLoraUpdating { get; init; }
    /// <summary>
    /// Speculative decoding by prompt lookup (vLLM's "ngram" method): up to this many draft tokens per decoding sequence and
    /// step, copied from what followed the latest earlier occurrence of its last tokens, verified in the same forward pass;
    /// 0 = off. Outputs are the same as without it (each token is still sampled from the model's own distribution).
    /// </summary>
    public int NumSpeculativeTokens { get; init; }
    /// <summary>Longest n-gram (of the sequence's last tokens) looked up for drafts.</summary>
    public int PromptLookupMax { get; init; } = 4;
    /// <summary>Shortest n-gram looked up for drafts.</summary>
    public int PromptLookupMin { get; init; } = 2;
    /// <summary>
    /// No drafts in a step while this many requests or more are running or waiting (vLLM's disable_by_batch_size): a large
    /// batch is no longer memory-bound, so rejected drafts cost real compute; null = always speculate.
    /// </summary>
    public int? SpeculativeDisableBySize { get; init; }

    /// <summary>
    /// The plain Hugging Face + Flask deployment as a baseline: one request at a time in arrival order, its whole prompt in one
    /// step, its KV cache reserved in full at admission (prompt + max_tokens) and no sharing between requests. Same model, same
    /// kernels; only scheduling and batching differ, so a comparison isolates what continuous batching and paged KV buy.
    /// </summary>
    public EngineConfig AsNaiveBaseline() => this with
    {
        MaxNumSeqs = 1,
        EnableChunkedPrefill = false,
        EnablePrefixCaching = false,
        Policy = SchedulingPolicy.GuaranteedNoEvict,
        NumSpeculativeTokens = 0,
    };
    /// <summary>Weight quantization at load: INT8 on the fly, or require a pre-quantized AWQ checkpoint.</summary>
    public Estuary.Models.Quantization.QuantizationMode Quantization { get; init; }

    /// <summary>Problems with the settings, each naming the field.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (BlockSize is < 1 or > 256) errors.Add($"block_size must be in [1, 256] (got {BlockSize})");
        if (NumKvBlocks is < 1) errors.Add($"num_kv_blocks must be positive (got {NumKvBlocks})");
        if (KvCacheMemoryBytes is < 1) errors.Add($"kv_cache_memory must be positive (got {KvCacheMemoryBytes})");
        if (!(KvCacheMemoryFraction > 0 && KvCacheMemoryFraction <= 1)) errors.Add($"kv_cache_memory_fraction must be in (0, 1] (got {KvCacheMemoryFraction})");
        if (KvCacheDType is { } kvd && !Estuary.Tensors.KvCacheSpec.IsSupported(kvd)) errors.Add($"kv_cache_dtype must be auto, float32, bfloat16, float16 or int8 (got {kvd})");
        if (MaxLogprobs < -1) errors.Add($"max_logprobs must be -1 (no cap) or at least 0 (got {MaxLogprobs})");
        if (MaxNumSeqs < 1) errors.Add($"max_num_seqs must be positive (got {MaxNumSeqs})");
        if (MaxNumBatchedTokens < 1) errors.Add($"max_num_batched_tokens must be positive (got {MaxNumBatchedTokens})");
        if (MaxModelLen is < 2) errors.Add($"max_model_len must be at least 2 (got {MaxModelLen})");
        if (NumThreads is < 1) errors.Add($"num_threads must be positive (got {NumThreads})");
        if (MaxLoras < 1) errors.Add($"max_loras must be positive (got {MaxLoras})");
        if (NumSpeculativeTokens is < 0 or > 32) errors.Add($"num_speculative_tokens must be in [0, 32] (got {NumSpeculativeTokens})");
        if (NumSpeculativeTokens > 0 && !(PromptLookupMin >= 1 && PromptLookupMin <= PromptLookupMax && PromptLookupMax <= 64))
            errors.Add($"prompt_lookup_min and prompt_lookup_max must satisfy 1 ≤ min ≤ max ≤ 64 (got {PromptLookupMin} and {PromptLookupMax})");
        if (SpeculativeDisableBySize is < 1) errors.Add($"disable_by_batch_size must be positive (got {SpeculativeDisableBySize})");
        return errors;
    }
}
