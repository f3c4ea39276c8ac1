// The synchronous engine: AddRequest, Step (schedule → build batch → forward → sample → stop checks), Abort.
// Not thread-safe: one thread drives it (AsyncLlmEngine's loop, or Llm's offline loop); LoRA loads and unloads run on that thread too.
// Invariant: a finished or aborted request holds no KV blocks.
using System.Diagnostics;
using Estuary.Backend.Cpu;
using Estuary.Engine.Execution;
using Estuary.Engine.KvCache;
using Estuary.Engine.Sampling;
using Estuary.Engine.Structured;
using Estuary.Engine.Scheduling;
using Estuary.Models;
using Estuary.Models.Config;
using Estuary.Models.Lora;
using Estuary.Tensors;
using Estuary.Tokenization;

namespace Estuary.Engine;

/// <summary>Continuous-batching generation engine over a paged KV cache.</summary>
public sealed class LlmEngine : IDisposable
{
    private readonly ICausalLm _model;
    private readonly KvCacheManager _kvCache;
    private readonly Scheduler _scheduler;
    private readonly ModelRunner _runner;
    private readonly BatchBuilder _batchBuilder;
    private readonly Sampler _sampler;
    // Ids below this the tokenizer can decode; a model's embedding may have more rows (padding: Qwen's 151936 for 151669
    // tokens, a tokenizer swapped in), which are never sampled nor shown as alternatives.
    private readonly int _decodableVocab;
    private readonly Dictionary<string, Sequence> _sequences = [];
    private readonly int[] _eosIds;
    private readonly LoraRegistry _loras;
    private readonly StructuredOutputCompiler _structured;
    private long _arrivals;
    private long _steps;
    private long _promptTokensComputed;
    private long _generatedTokens;
    private long _draftTokens;
    private long _acceptedDraftTokens;
    private int _peakUsedBlocks;

    /// <summary>Creates an engine over a loaded model; <paramref name="loras"/> (already attached to it) is owned and disposed by the engine.</summary>
    public LlmEngine(ICausalLm model, TextTokenizer tokenizer, GenerationConfig generation, EngineConfig config, LoraSet? loras = null)
    {
        var errors = config.Validate();
        if (loras != null && loras.Count > config.MaxLoras)
            errors = [.. errors, $"{loras.Count} LoRA adapters are loaded but max_loras is {config.MaxLoras}"];
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));
        _model = model;
        _loras = new LoraRegistry(loras);
        Tokenizer = tokenizer;
        Generation = generation;
        Config = config;
        var mc = model.Config;
        if (tokenizer.VocabSize > mc.VocabSize)
            throw new ArgumentException($"the tokenizer has {tokenizer.VocabSize} pieces but the model's vocab_size is {mc.VocabSize}; " +
                "they belong to different models");
        MaxModelLen = Math.Min(config.MaxModelLen ?? mc.MaxPositions, mc.MaxPositions);
        int blocksPerSeq = (MaxModelLen + config.BlockSize - 1) / config.BlockSize;
        var kvDType = config.KvCacheDType ?? DType.F32; // 'auto': the activation dtype, F32 on the CPU (exact against the references)
        var probe = new KvCacheSpec(mc.NumLayers, 1, config.BlockSize, mc.NumKvHeads, mc.HeadDim, kvDType);
        NumKvBlocks = config.NumKvBlocks ?? KvBlocksFromMemory(config, probe, blocksPerSeq);
        var spec = probe with { NumBlocks = NumKvBlocks };
        CheckKvCacheFits(config, spec);
        _kvCache = new KvCacheManager(NumKvBlocks, config.BlockSize, config.EnablePrefixCaching);
        int maxBatched = Math.Max(config.MaxNumBatchedTokens, config.EnableChunkedPrefill ? 1 : MaxModelLen);
        var proposer = config.NumSpeculativeTokens > 0 ? new NgramProposer(config.PromptLookupMin, config.PromptLookupMax) : null;
        _scheduler = new Scheduler(new SchedulerConfig(config.MaxNumSeqs, maxBatched, config.Policy, config.EnableChunkedPrefill)
        {
            NumSpeculativeTokens = config.NumSpeculativeTokens,
            SpeculativeDisableBySize = config.SpeculativeDisableBySize,
            Order = config.Order,
        }, _kvCache, proposer);
        _runner = new ModelRunner(model, spec, config.MaxNumSeqs);
        _batchBuilder = new BatchBuilder(new ForwardBatch(maxBatched, config.MaxNumSeqs, blocksPerSeq, config.BlockSize));
        var eos = new List<int>(generation.EosTokenIds);
        foreach (var id in mc.EosTokenIds) if (!eos.Contains(id)) eos.Add(id);
        // As vLLM: the tokenizer's EOS stops too (a Llama 3 Instruct tokenizer's <|eot_id|> where a config names <|end_of_text|>).
        if (tokenizer.EosId >= 0 && tokenizer.EosId < mc.VocabSize && !eos.Contains(tokenizer.EosId)) eos.Add(tokenizer.EosId);
        _eosIds = [.. eos];
        _sampler = new Sampler(mc.VocabSize, _eosIds);
        _decodableVocab = Math.Min(mc.VocabSize, tokenizer.VocabSize);
        _structured = new StructuredOutputCompiler(() => TokenVocabulary.FromTokenizer(tokenizer, mc.VocabSize));
    }

    /// <summary>
    /// Loads a model directory onto the CPU backend, with the LoRA adapters <paramref name="loras"/> (name → PEFT adapter folder)
    /// served unmerged: a request picks one with <see cref="SamplingParams.LoraName"/>.
    /// </summary>
    public static LlmEngine Load(string modelDir, EngineConfig? config = null, IProgress<int>? layerLoaded = null,
        IReadOnlyDictionary<string, string>? loras = null)
    {
        config ??= new EngineConfig();
        if (loras is { Count: > 0 } && loras.Count > config.MaxLoras)
            throw new ArgumentException($"{loras.Count} LoRA adapters requested but max_loras is {config.MaxLoras}");
        var tokenizer = TextTokenizer.Load(modelDir);
        var generation = GenerationConfig.Load(modelDir);
        IBackend backend = new CpuBackend(config.NumThreads);
        if (Diagnostics.ProfilingBackend.Enabled) backend = new Diagnostics.ProfilingBackend(backend, Console.Error);
        var model = ModelLoader.Load(modelDir, backend, layerLoaded, config.Quantization, config.MaxModelLen);
        LoraSet? set = null;
        try
        {
            if (loras is { Count: > 0 } || config.EnableRuntimeLoraUpdating)
                set = LoraSet.Attach(model, [.. loras ?? new Dictionary<string, string>()], config.LoraInModelDType,
                    config.EnableRuntimeLoraUpdating ? config.MaxLoras : null);
            return new LlmEngine(model, tokenizer, generation, config, set) { ModelDirectory = modelDir };
        }
        catch
        {
            set?.Dispose();
            model.Dispose();
            throw;
        }
    }

    /// <summary>The tokenizer.</summary>
    public TextTokenizer Tokenizer { get; }
    /// <summary>Defaults from generation_config.json.</summary>
    public GenerationConfig Generation { get; }
    /// <summary>Engine settings.</summary>
    public EngineConfig Config { get; }
    /// <summary>Model settings.</summary>
    public ModelConfig ModelConfig => _model.Config;
    /// <summary>The loaded model.</summary>
    public ICausalLm Model => _model;
    /// <summary>Where the model was loaded from, if from disk.</summary>
    public string? ModelDirectory { get; init; }
    /// <summary>Context limit (prompt + output).</summary>
    public int MaxModelLen { get; }
    /// <summary>The most logprobs / prompt_logprobs a request may ask (<see cref="EngineConfig.MaxLogprobs"/>; no cap = the vocabulary size).</summary>
    public int MaxLogprobs => Config.MaxLogprobs < 0 ? ModelConfig.VocabSize : Config.MaxLogprobs;
    /// <summary>KV blocks in the pool.</summary>
    public int NumKvBlocks { get; }
    /// <summary>EOS ids that stop generation (unless ignored).</summary>
    public IReadOnlyList<int> EosTokenIds => _eosIds;
    /// <summary>Names of the loaded LoRA adapters (empty when none).</summary>
    public IReadOnlyList<string> LoraNames => _loras.Names;
    /// <summary>Whether adapters can be loaded and unloaded while the engine runs (<see cref="EngineConfig.EnableRuntimeLoraUpdating"/>).</summary>
    public bool RuntimeLoraUpdating => _loras.AcceptsNewAdapters;
    /// <summary>Whether any request is unfinished.</summary>
    public bool HasUnfinishedRequests => _scheduler.HasUnfinished;

    /// <summary>Occupancy snapshot.</summary>
    public EngineStats Stats => new(NumKvBlocks, _kvCache.NumFreeBlocks, _peakUsedBlocks, _scheduler.NumRunning,
        _scheduler.NumWaiting, _scheduler.NumPreemptions, _steps, _promptTokensComputed, _generatedTokens, _draftTokens, _acceptedDraftTokens);

    /// <summary>Sampling defaults from generation_config.json (greedy when do_sample is false).</summary>
    public SamplingParams DefaultSamplingParams(int? maxTokens = null) => new()
    {
        Temperature = Generation.DoSample ? Generation.Temperature : 0,
        TopK = Generation.DoSample ? Generation.TopK : 0,
        TopP = Generation.DoSample ? Generation.TopP : 1,
        RepetitionPenalty = Generation.RepetitionPenalty,
        MaxTokens = maxTokens ?? Generation.MaxNewTokens,
    };

    /// <summary>Checks a request without queuing it; returns the problems, each naming the field (thread-safe).</summary>
    public IReadOnlyList<string> ValidateRequest(IReadOnlyList<int> promptIds, SamplingParams sampling)
    {
        var errors = new List<string>(sampling.Validate(MaxLogprobs));
        if (sampling.LoraName is { } lora && !_loras.Contains(lora))
            errors.Add($"lora_name '{lora}' is not a loaded adapter (loaded: {(LoraNames.Count == 0 ? "none" : string.Join(", ", LoraNames))})");
        if (promptIds.Count == 0) errors.Add("prompt must contain at least one token");
        if (sampling.Priority != 0 && Config.Order != RequestOrder.Priority)
            errors.Add($"priority {sampling.Priority} needs the priority scheduling policy (start the server with --scheduling-policy priority)");
        if (sampling.StructuredOutput is { } structured && ValidateStructuredOutput(structured) is { } problem)
            errors.Add($"structured_outputs: {problem}");
        foreach (var id in promptIds)
        {
            if ((uint)id >= (uint)ModelConfig.VocabSize)
            {
                errors.Add($"prompt token id {id} is outside the vocabulary [0, {ModelConfig.VocabSize})");
                break;
            }
        }
        if (sampling.StructuredOutputAfterTokenId is { } afterId && afterId >= ModelConfig.VocabSize)
            errors.Add($"structured output after token {afterId}: the id is outside the vocabulary [0, {ModelConfig.VocabSize})");
        foreach (var id in sampling.LogitBias.Keys)
        {
            if (id >= ModelConfig.VocabSize)
            {
                errors.Add($"logit_bias token id {id} is outside the vocabulary [0, {ModelConfig.VocabSize})");
                break;
            }
        }
        foreach (var id in sampling.AllowedTokenIds ?? [])
        {
            if (id < ModelConfig.VocabSize) continue;
            errors.Add($"allowed_token_ids: token id {id} is outside the vocabulary [0, {ModelConfig.VocabSize})");
            break;
        }
        if (promptIds.Count >= MaxModelLen)
            errors.Add($"prompt is {promptIds.Count} tokens; the context length is {MaxModelLen}, leaving no room to generate");
        else
        {
            int need = Config.Policy == SchedulingPolicy.GuaranteedNoEvict ? promptIds.Count + EffectiveMaxTokens(promptIds.Count, sampling) : promptIds.Count + 1;
            if (_kvCache.BlocksFor(need) > NumKvBlocks)
                errors.Add($"request needs {_kvCache.BlocksFor(need)} KV blocks but the cache has only {NumKvBlocks}");
        }
        return errors;
    }

    /// <summary>
    /// Compiles <paramref name="spec"/> (kept for the requests that use it); returns why it cannot be used, or null
    /// (thread-safe).
    /// </summary>
    public string? ValidateStructuredOutput(StructuredOutput spec)
    {
        try
        {
            _structured.Compile(spec);
            return null;
        }
        catch (GrammarException e)
        {
            return e.Message;
        }
    }

    /// <summary>Queues a request; throws <see cref="ArgumentException"/> naming the problem for bad input.</summary>
    public Sequence AddRequest(string requestId, int[] promptIds, SamplingParams sampling)
    {
        var errors = ValidateRequest(promptIds, sampling);
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));
        if (_sequences.ContainsKey(requestId)) throw new ArgumentException($"request id '{requestId}' is already in use");
        var (loraId, loraCacheKey) = _loras.Resolve(sampling.LoraName);
        var stopIds = new HashSet<int>(sampling.StopTokenIds);
        if (!sampling.IgnoreEos) stopIds.UnionWith(_eosIds);
        var stop = new StopChecker(Tokenizer.CreateDetokenizer(promptIds, sampling.SkipSpecialTokens), sampling.Stop, stopIds);
        var seq = new Sequence(requestId, [.. promptIds], sampling, _arrivals++, EffectiveMaxTokens(promptIds.Length, sampling), stop)
        {
            BadWordIds = EncodeBadWords(sampling.BadWords),
            LogitBiasIds = [.. sampling.LogitBias.Keys],
            LogitBiasValues = [.. sampling.LogitBias.Values],
            AllowedTokenMask = AllowedTokenMask(sampling.AllowedTokenIds),
            LoraId = loraId,
            LoraCacheKey = loraCacheKey,
        };
        if (sampling.StructuredOutput is { } structured)
        {
            seq.Guide = _structured.Compile(structured);
            seq.GuideState = seq.Guide.Initial;
            seq.GuideActive = sampling.StructuredOutputAfterTokenId is null;
        }
        _sequences.Add(requestId, seq);
        _loras.AddUser(loraId);
        _scheduler.Add(seq);
        return seq;
    }

    /// <summary>
    /// Loads the PEFT adapter in <paramref name="dir"/> as <paramref name="name"/> while the engine runs (needs
    /// <see cref="EngineConfig.EnableRuntimeLoraUpdating"/>); call between steps, from the thread that drives the engine. Throws
    /// <see cref="ArgumentException"/> naming the problem (ParamName "name" or "dir") and <see cref="InvalidOperationException"/> when
    /// runtime updating is off or max_loras adapters are held; then nothing changed.
    /// </summary>
    public void LoadLora(string name, string dir) => InstallLora(PrepareLora(name, dir));

    /// <summary>
    /// Unloads adapter <paramref name="name"/>: new requests cannot use it from now on; requests already using it finish normally, and
    /// its slot and weights are freed when the last of them finishes. Returns false when no adapter has that name. Engine thread only.
    /// </summary>
    public bool UnloadLora(string name) => _loras.Unload(name);

    /// <summary>Opens and checks an adapter without touching the running model (thread-safe; the slow part of a load).</summary>
    internal PreparedLora PrepareLora(string name, string dir) => _loras.Prepare(name, dir);

    /// <summary>Installs a prepared adapter (engine thread, between steps).</summary>
    internal void InstallLora(PreparedLora lora) => _loras.Install(lora);

    /// <summary>Cancels a request and frees its blocks at once; returns false if it is unknown or already finished.</summary>
    public bool Abort(string requestId) => AbortRequest(requestId) is not null;

    /// <summary>
    /// Cancels a request and frees its blocks at once; returns its final output (finish reason Abort, no new text, the counts so
    /// far), or null if it is unknown or already finished.
    /// </summary>
    public RequestOutput? AbortRequest(string requestId) =>
        _sequences.TryGetValue(requestId, out var seq) ? Finish(seq, FinishReason.Abort, "") : null;

    /// <summary>Runs one step; returns the outputs of every request that produced text or tokens or finished.</summary>
    public IReadOnlyList<RequestOutput> Step()
    {
        var results = new List<RequestOutput>();
        var plan = _scheduler.Schedule();
        foreach (var seq in plan.FinishedForCapacity) results.Add(Finish(seq, FinishReason.Length, seq.Stop.Flush()));
        if (plan.Scheduled.Count == 0) return results;
        _steps++;
        _peakUsedBlocks = Math.Max(_peakUsedBlocks, _kvCache.NumUsedBlocks);
        var batch = _batchBuilder.Build(plan);
        _runner.Forward(batch);
        foreach (var (seq, numNew) in plan.Scheduled)
        {
            // Draft tokens count as computed only once accepted (below): until then their KV is a guess.
            int numKnown = numNew - seq.Draft.Count;
            _promptTokensComputed += Math.Clamp(seq.NumPromptTokens - seq.NumComputedTokens, 0, numKnown);
            seq.NumComputedTokens += numKnown;
            _draftTokens += seq.Draft.Count;
            _kvCache.CacheFullBlocks(seq);
        }
        int vocab = _runner.VocabSize;
        Memory<float> logits = default;
        int sliceStart = 0;
        for (int r = 0; r < batch.NumLogitsRows; r++)
        {
            // Logits come in slices of at most R rows (R = max_num_seqs): more rows than that only when prompts are scored.
            if (r == 0 || r - sliceStart == _runner.MaxLogitsRows)
            {
                sliceStart = r;
                logits = _runner.Logits(batch, r, Math.Min(_runner.MaxLogitsRows, batch.NumLogitsRows - r));
            }
            var row = logits.Span.Slice((r - sliceStart) * vocab, vocab);
            if (_decodableVocab < vocab) row[_decodableVocab..].Fill(float.NegativeInfinity); // rows the tokenizer has no token for
            var seq = plan.Scheduled[_batchBuilder.LogitsOwners[r]].Sequence;
            int position = _batchBuilder.LogitsPositions[r];
            int sampleIndex = _batchBuilder.LogitsSampleIndex[r];
            if (sampleIndex < 0)
            {
                // A prompt row: it scores the prompt token after it (rows come in position order, so the list grows in order).
                Debug.Assert(seq.PromptLogprobs!.Count == position);
                seq.PromptLogprobs.Add(Sampler.PromptLogprob(row, seq.TokenAt(position + 1), seq.Sampling.PromptLogprobs!.Value));
                continue;
            }
            // Row j of a speculating sequence counts only while drafts 0 … j−1 were all accepted and it has not finished.
            if (seq.IsFinished || seq.NumComputedTokens != seq.NumTokens) continue;
            Debug.Assert(position == seq.NumTokens - 1);
            var sample = _sampler.Sample(seq, row);
            seq.AppendToken(sample.TokenId);
            _generatedTokens++;
            bool complete = AdvanceGuide(seq, sample.TokenId);
            bool atLimit = seq.NumOutputTokens >= seq.MaxTokens || seq.NumTokens >= MaxModelLen;
            var (delta, reason) = seq.Stop.OnToken(sample.TokenId, atLimit || complete);
            if (complete && reason == FinishReason.Length) reason = FinishReason.Stop;
            var logprobs = seq.Sampling.Logprobs.HasValue ? new[] { sample } : null;
            if (reason is { } why) results.Add(Finish(seq, why, delta, sample.TokenId, logprobs));
            else
            {
                results.Add(Output(seq, delta, [sample.TokenId], logprobs, finished: false));
                // The model sampled the draft token itself: its KV (computed from that token) is valid, and the next row counts.
                if (sampleIndex < seq.Draft.Count && seq.Draft[sampleIndex] == sample.TokenId)
                {
                    seq.NumComputedTokens++;
                    _acceptedDraftTokens++;
                    _kvCache.CacheFullBlocks(seq);
                }
            }
        }
        foreach (var (seq, _) in plan.Scheduled) seq.Draft.Clear();
        return results;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _runner.Dispose();
        _model.Dispose();
        _loras.Dispose();
        _model.Backend.Dispose();
    }

    private RequestOutput Finish(Sequence seq, FinishReason reason, string delta, int? newToken = null, SampleResult[]? logprobs = null)
    {
        seq.FinishReason = reason;
        _scheduler.Finish(seq);
        _sequences.Remove(seq.RequestId);
        // Safe here: this step's forward pass is done (the LM head carries no adapter), so an unloaded adapter's last user lets it go.
        _loras.Release(seq.LoraId);
        return Output(seq, delta, newToken.HasValue ? [newToken.Value] : [], logprobs, finished: true);
    }

    private static RequestOutput Output(Sequence seq, string delta, int[] newTokens, SampleResult[]? logprobs, bool finished) => new()
    {
        RequestId = seq.RequestId,
        NewText = delta,
        NewTokenIds = newTokens,
        NewLogprobs = logprobs,
        PromptLogprobs = TakePromptLogprobs(seq),
        Finished = finished,
        FinishReason = finished ? seq.FinishReason : null,
        NumPromptTokens = seq.NumPromptTokens,
        NumOutputTokens = seq.NumOutputTokens,
        NumCachedTokens = seq.NumCachedTokens,
        QueueSeconds = seq.FirstScheduledTimestamp == 0 ? null
            : System.Diagnostics.Stopwatch.GetElapsedTime(seq.ArrivalTimestamp, seq.FirstScheduledTimestamp).TotalSeconds,
    };

    /// <summary>The prompt log-probabilities, the first time they are complete (an abort before that delivers none).</summary>
    private static IReadOnlyList<SampleResult>? TakePromptLogprobs(Sequence seq)
    {
        if (seq.PromptLogprobs is null || seq.PromptLogprobsDelivered || seq.NeedsPromptLogprobs) return null;
        seq.PromptLogprobsDelivered = true;
        return seq.PromptLogprobs;
    }

    /// <summary>
    /// Moves a structured-output sequence past <paramref name="tokenId"/>; true when its text is now complete and nothing may
    /// follow (the request ends there, as if it had produced EOS), or when the grammar cannot continue at all.
    /// </summary>
    private static bool AdvanceGuide(Sequence seq, int tokenId)
    {
        if (seq.Guide is not { } guide || seq.Stop.StopTokenIds.Contains(tokenId)) return false;
        if (!seq.GuideActive)
        {
            // The free part (reasoning) ends with this token; the grammar starts at the next one.
            seq.GuideActive = tokenId == seq.Sampling.StructuredOutputAfterTokenId;
            return false;
        }
        var next = guide.Advance(seq.GuideState!, tokenId);
        seq.GuideState = next;
        return !next.CanContinue;
    }

    private int EffectiveMaxTokens(int promptLength, SamplingParams sampling) =>
        Math.Max(1, Math.Min(sampling.MaxTokens ?? int.MaxValue, MaxModelLen - promptLength));

    // One bit per vocabulary id, built once per request so the sampler's mask costs one pass over the row and nothing for
    // requests without allowed_token_ids.
    private ulong[]? AllowedTokenMask(IReadOnlyList<int>? ids)
    {
        if (ids is null) return null;
        var mask = new ulong[(ModelConfig.VocabSize + 63) / 64];
        foreach (var id in ids) mask[id >> 6] |= 1UL << (id & 63);
        return mask;
    }

    private int[][] EncodeBadWords(IReadOnlyList<string> words)
    {
        if (words.Count == 0) return [];
        var result = new List<int[]>();
        foreach (var w in words)
        {
            // As vLLM does: the word alone and with a leading space, since either may follow other text.
            foreach (var variant in new[] { w, " " + w.TrimStart() })
            {
                var ids = Tokenizer.Encode(variant, addSpecialTokens: false);
                if (ids.Length > 0 && !result.Exists(r => r.AsSpan().SequenceEqual(ids))) result.Add(ids);
            }
        }
        return [.. result];
    }

    private static int KvBlocksFromMemory(EngineConfig config, KvCacheSpec onePerBlock, int blocksPerSeq)
    {
        long bytesPerBlock = onePerBlock.TotalBytes();
        long budget = config.KvCacheMemoryBytes ?? (long)(AvailableMemoryBytes() * config.KvCacheMemoryFraction);
        long fromBudget = Math.Max(1, budget / bytesPerBlock);
        long useful = (long)config.MaxNumSeqs * blocksPerSeq; // more blocks than every sequence at full length could never be used
        return (int)Math.Min(Math.Min(fromBudget, useful), int.MaxValue);
    }

    /// <summary>An explicit block count or budget larger than the memory left fails here, naming the option, rather than in the allocator.</summary>
    private static void CheckKvCacheFits(EngineConfig config, KvCacheSpec spec)
    {
        // A size derived from the memory fraction (≤ 1) fits by construction; only an explicit block count or budget can overshoot.
        if (config.NumKvBlocks is null && config.KvCacheMemoryBytes is null) return;
        long bytes = spec.TotalBytes(), available = AvailableMemoryBytes();
        if (bytes <= available) return;
        string asked = config.NumKvBlocks is { } n ? $"num_kv_blocks {n}" : $"kv_cache_memory {config.KvCacheMemoryBytes} bytes";
        throw new ArgumentException($"{asked} needs {bytes / (double)(1L << 30):F1} GiB for the KV cache " +
            $"({spec.NumBlocks} blocks); only {available / (double)(1L << 30):F1} GiB of memory is available");
    }

    private static long AvailableMemoryBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
            }
        }
        catch (IOException)
        {
        }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }
}
