// The model and engine options shared by every command that loads a model, and their mapping to EngineConfig.
using System.CommandLine;
using Estuary.Engine;
using Estuary.Engine.Scheduling;
using Estuary.Models.Quantization;
using Estuary.Tensors;

namespace Estuary.Cli.Hosting;

/// <summary>--model and engine tuning options.</summary>
internal sealed class EngineOptions
{
    public Option<string?> Model { get; } = new("--model", "-m") { Description = "Hugging Face model directory (default: the embedded stories260K model)" };
    public Option<int?> Threads { get; } = new("--threads") { Description = "CPU threads (default: all cores)" };
    public Option<int?> MaxModelLen { get; } = new("--max-model-len") { Description = "Context limit in tokens (default: the model's)" };
    public Option<int> BlockSize { get; } = new("--block-size") { Description = "Tokens per KV block", DefaultValueFactory = _ => 16 };
    public Option<int?> NumKvBlocks { get; } = new("--num-kv-blocks") { Description = "Explicit number of KV blocks" };
    public Option<string?> KvCacheMemory { get; } = new("--kv-cache-memory") { Description = "KV-cache budget, e.g. 2GiB or 512MB (default: a fraction of free memory)" };
    public Option<string> KvCacheDType { get; } = new("--kv-cache-dtype") { Description = "KV-cache element type: auto (the activation dtype: float32 on the CPU), float32, bfloat16 or float16 (half the bytes; K/V rounded), or int8 (about a quarter: each head's key and value quantized with one scale)", DefaultValueFactory = _ => "auto" };
    public Option<double> KvCacheMemoryFraction { get; } = new("--kv-cache-memory-fraction") { Description = "Fraction of free memory for the KV cache", DefaultValueFactory = _ => 0.25 };
    public Option<int> MaxLogprobs { get; } = new("--max-logprobs") { Description = "Most logprobs / top_logprobs / prompt_logprobs a request may ask (-1 = no cap)", DefaultValueFactory = _ => 20 };
    public Option<int> MaxNumSeqs { get; } = new("--max-num-seqs") { Description = "Most sequences per step", DefaultValueFactory = _ => 64 };
    public Option<int> MaxNumBatchedTokens { get; } = new("--max-num-batched-tokens") { Description = "Most tokens per step (chunked-prefill budget)", DefaultValueFactory = _ => 512 };
    public Option<string> Policy { get; } = new("--scheduling-policy", "--scheduler-policy") { Description = "max_utilization or guaranteed_no_evict (capacity), fcfs or priority (order), or one of each comma-separated (--scheduler-policy is an alias)", DefaultValueFactory = _ => "max_utilization" };
    public Option<string> Quantization { get; } = new("--quantization") { Description = "none, int8 (quantize linears on the fly) or awq (require an AWQ checkpoint)", DefaultValueFactory = _ => "none" };
    public Option<bool> NoPrefixCaching { get; } = new("--no-prefix-caching") { Description = "Disable KV-cache reuse between requests with a common prefix" };
    public Option<bool?> EnablePrefixCaching { get; } = new("--enable-prefix-caching") { Description = "KV-cache reuse between requests with a common prefix: on by default; '--enable-prefix-caching false' turns it off", Arity = ArgumentArity.ZeroOrOne };
    public Option<string[]> Lora { get; } = new("--lora") { Description = "Serve a PEFT LoRA adapter unmerged: NAME=DIR (repeatable)" };
    public Option<string> LoraDType { get; } = new("--lora-dtype") { Description = "LoRA factors as stored ('adapter', exact) or in the model's dtype ('auto', as vLLM: fewer bytes per step)", DefaultValueFactory = _ => "adapter" };
    public Option<int> MaxLoras { get; } = new("--max-loras") { Description = "Most adapters loaded at once", DefaultValueFactory = _ => 16 };
    public Option<string?> SpeculativeConfig { get; } = new("--speculative-config") { Description = "Speculative decoding by prompt lookup, as vLLM's flag: '{\"method\": \"ngram\", \"num_speculative_tokens\": 4, \"prompt_lookup_max\": 4, \"prompt_lookup_min\": 2}' (outputs unchanged; faster when replies repeat their context)" };

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Model, Threads, MaxModelLen, BlockSize, NumKvBlocks, KvCacheMemory, KvCacheDType, KvCacheMemoryFraction, MaxLogprobs, MaxNumSeqs, MaxNumBatchedTokens, Policy, NoPrefixCaching, EnablePrefixCaching, Lora, LoraDType, MaxLoras, Quantization, SpeculativeConfig })
            command.Options.Add(o);
    }

    public string ModelDirectory(ParseResult r) => DefaultModel.Resolve(r.GetValue(Model));

    public EngineConfig ToConfig(ParseResult r) => Speculative(r.GetValue(SpeculativeConfig), new EngineConfig
    {
        NumThreads = r.GetValue(Threads),
        MaxModelLen = r.GetValue(MaxModelLen),
        BlockSize = r.GetValue(BlockSize),
        NumKvBlocks = r.GetValue(NumKvBlocks),
        KvCacheMemoryBytes = r.GetValue(KvCacheMemory) is { } s ? ByteSize.Parse(s, "--kv-cache-memory") : null,
        KvCacheMemoryFraction = r.GetValue(KvCacheMemoryFraction),
        KvCacheDType = r.GetValue(KvCacheDType) switch
        {
            "auto" => null,
            "float32" or "fp32" => DType.F32,
            "bfloat16" or "bf16" => DType.BF16,
            "float16" or "fp16" or "half" => DType.F16,
            "int8" => DType.I8,
            var other => throw new UsageException($"--kv-cache-dtype must be auto, float32, bfloat16, float16 or int8 (got '{other}')"),
        },
        MaxLogprobs = r.GetValue(MaxLogprobs),
        MaxNumSeqs = r.GetValue(MaxNumSeqs),
        MaxNumBatchedTokens = r.GetValue(MaxNumBatchedTokens),
        Policy = SchedulingPolicyOption.Parse(r.GetValue(Policy)!).Policy,
        Order = SchedulingPolicyOption.Parse(r.GetValue(Policy)!).Order,
        EnablePrefixCaching = (r.GetValue(EnablePrefixCaching), r.GetValue(NoPrefixCaching)) switch
        {
            (true, true) => throw new UsageException("--enable-prefix-caching and --no-prefix-caching contradict each other"),
            ({ } on, _) => on,
            (null, var off) => !off,
        },
        MaxLoras = r.GetValue(MaxLoras),
        LoraInModelDType = r.GetValue(LoraDType) switch
        {
            "adapter" => false,
            "auto" => true,
            var other => throw new UsageException($"--lora-dtype must be adapter or auto (got '{other}')"),
        },
        Quantization = r.GetValue(Quantization) switch
        {
            "none" => QuantizationMode.None,
            "int8" => QuantizationMode.Int8,
            "awq" => QuantizationMode.Awq,
            var other => throw new UsageException($"--quantization must be none, int8 or awq (got '{other}')"),
        },
    });

    /// <summary>--speculative-config: vLLM's JSON; only the "ngram" (prompt lookup) method exists here.</summary>
    private static EngineConfig Speculative(string? json, EngineConfig config)
    {
        if (string.IsNullOrWhiteSpace(json)) return config;
        const string Shape = "--speculative-config must be a JSON object such as {\"method\": \"ngram\", \"num_speculative_tokens\": 4, \"prompt_lookup_max\": 4, \"prompt_lookup_min\": 2}";
        System.Text.Json.JsonDocument doc;
        try
        {
            doc = System.Text.Json.JsonDocument.Parse(json);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new UsageException($"{Shape}: {e.Message}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != System.Text.Json.JsonValueKind.Object) throw new UsageException(Shape);
            int Int(string name, int fallback)
            {
                if (!root.TryGetProperty(name, out var v)) return fallback;
                return v.ValueKind == System.Text.Json.JsonValueKind.Number && v.TryGetInt32(out int i) ? i
                    : throw new UsageException($"--speculative-config: '{name}' must be an integer");
            }
            foreach (var property in root.EnumerateObject())
                if (property.Name is not ("method" or "num_speculative_tokens" or "prompt_lookup_max" or "prompt_lookup_min" or "disable_by_batch_size"))
                    throw new UsageException($"--speculative-config: '{property.Name}' is not supported (method, num_speculative_tokens, prompt_lookup_max, prompt_lookup_min, disable_by_batch_size)");
            var method = root.TryGetProperty("method", out var m) && m.ValueKind == System.Text.Json.JsonValueKind.String ? m.GetString() : null;
            if (method != "ngram")
                throw new UsageException($"--speculative-config: method '{method}' is not supported; Estuary drafts by prompt lookup only (\"method\": \"ngram\")");
            int k = Int("num_speculative_tokens", 0);
            if (k < 1) throw new UsageException("--speculative-config: num_speculative_tokens must be at least 1");
            int max = Int("prompt_lookup_max", 4);
            int disable = Int("disable_by_batch_size", 0);
            return config with
            {
                NumSpeculativeTokens = k,
                PromptLookupMax = max,
                PromptLookupMin = Int("prompt_lookup_min", Math.Min(2, max)),
                SpeculativeDisableBySize = root.TryGetProperty("disable_by_batch_size", out _) ? disable : null,
            };
        }
    }

    /// <summary>Adapters from --lora NAME=DIR.</summary>
    public IReadOnlyDictionary<string, string>? Loras(ParseResult r)
    {
        var values = r.GetValue(Lora);
        if (values == null || values.Length == 0) return null;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var v in values)
        {
            int eq = v.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == v.Length - 1) throw new UsageException($"--lora: '{v}' must be NAME=DIR");
            if (!result.TryAdd(v[..eq], v[(eq + 1)..])) throw new UsageException($"--lora: adapter name '{v[..eq]}' given twice");
        }
        return result;
    }
}
