// A 16-bit or 8-bit KV cache (--kv-cache-dtype bfloat16/float16/int8): more blocks from one memory budget, and outputs that do not
// depend on batching, chunking or preemption; the default stays F32 (the reference-exact one).
using Estuary.Engine.Scheduling;
using Estuary.Tensors;
using Estuary.Testing;

namespace Estuary.Engine.Tests;

public class KvCacheDTypeTests
{
    private static IReadOnlyList<GenerationResult> Run(string model, EngineConfig config, bool oneAtATime = false) => RunWithStats(model, config, oneAtATime).Results;

    private static (IReadOnlyList<GenerationResult> Results, EngineStats Stats) RunWithStats(string model, EngineConfig config, bool oneAtATime = false)
    {
        var cases = ReferenceCases.Load(model);
        using var llm = Llm.Load(Fixtures.Path(model), config);
        var prompts = cases.Select(c => c.PromptIds).ToArray();
        var sampling = cases.Select(c => SamplingParams.Greedy(c.GreedyIds.Length) with { IgnoreEos = true }).ToArray();
        var results = new List<GenerationResult>();
        if (oneAtATime)
            for (int i = 0; i < prompts.Length; i++) results.AddRange(llm.Generate([prompts[i]], [sampling[i]]));
        else
            results.AddRange(llm.Generate(prompts, sampling));
        var stats = llm.Engine.Stats;
        Assert.Equal(stats.NumKvBlocks, stats.NumFreeKvBlocks); // no leaked blocks
        return (results, stats);
    }

    [Fact]
    public void SixteenBitCacheHoldsTwiceTheBlocksOfOneBudget()
    {
        var budget = new EngineConfig { KvCacheMemoryBytes = 3 << 20 };
        using var f32 = Llm.Load(Fixtures.Path("stories260k"), budget);
        using var bf16 = Llm.Load(Fixtures.Path("stories260k"), budget with { KvCacheDType = DType.BF16 });
        Assert.InRange(bf16.Engine.NumKvBlocks, 2 * f32.Engine.NumKvBlocks, 2 * f32.Engine.NumKvBlocks + 1); // ⌊2x⌋ vs 2⌊x⌋
    }

    [Fact]
    public void Int8CacheHoldsTheBlocksItsBytesAllow()
    {
        var budget = new EngineConfig { KvCacheMemoryBytes = 3 << 20 };
        using var f32 = Llm.Load(Fixtures.Path("stories260k"), budget);
        using var i8 = Llm.Load(Fixtures.Path("stories260k"), budget with { KvCacheDType = DType.I8 });
        int d = f32.Engine.Model.Config.HeadDim;
        double ratio = 4.0 * d / (d + 4); // F32 vector: 4D bytes; I8: D bytes and a 4-byte scale
        Assert.InRange(i8.Engine.NumKvBlocks, (int)(ratio * f32.Engine.NumKvBlocks) - 1, (int)(ratio * (f32.Engine.NumKvBlocks + 1)));
    }

    [Theory]
    [InlineData("baichuan2-tiny-rope", DType.BF16, false)]
    [InlineData("baichuan2-tiny-alibi", DType.F16, false)]
    [InlineData("stories260k", DType.BF16, true)]
    [InlineData("baichuan2-tiny-alibi", DType.I8, false)]
    [InlineData("stories260k", DType.I8, true)]
    public void OutputsAreBatchInvariantAndSurvivePreemption(string model, DType dtype, bool mustPreempt)
    {
        var batched = Run(model, new EngineConfig { KvCacheDType = dtype });
        var alone = Run(model, new EngineConfig { KvCacheDType = dtype, EnablePrefixCaching = false }, oneAtATime: true);
        var chunked = Run(model, new EngineConfig { KvCacheDType = dtype, MaxNumBatchedTokens = 7, BlockSize = 16 });
        // Room for the longest request and one block more, not for all of them at once (stories260k's six requests then preempt).
        int squeezedBlocks = ReferenceCases.Load(model).Max(c => (c.PromptIds.Length + c.GreedyIds.Length + 15) / 16) + 1;
        var (squeezed, stats) = RunWithStats(model, new EngineConfig { KvCacheDType = dtype, NumKvBlocks = squeezedBlocks, Policy = SchedulingPolicy.MaxUtilization });
        if (mustPreempt) Assert.True(stats.NumPreemptions > 0, $"expected preemptions with {squeezedBlocks} blocks");
        for (int i = 0; i < batched.Count; i++)
        {
            Assert.Equal(batched[i].OutputIds, alone[i].OutputIds);
            Assert.Equal(batched[i].OutputIds, chunked[i].OutputIds);
            Assert.Equal(batched[i].OutputIds, squeezed[i].OutputIds);
        }
    }

    [Fact]
    public void Int8CachePerplexityIsWithinATenthOfAPercentOfFloat()
    {
        const string model = "baichuan2-bible-256";
        var ids = Estuary.Tokenization.TextTokenizer.Load(Fixtures.Path(model))
            .Encode(File.ReadAllText(Fixtures.Path(model, "heldout.txt")), addSpecialTokens: false);
        using var backend = new Estuary.Backend.Cpu.CpuBackend();
        using var lm = Estuary.Models.ModelLoader.Load(Fixtures.Path(model), backend);
        double f32 = Estuary.Engine.Evaluation.PerplexityEvaluator.Evaluate(lm, ids, 256).Perplexity;
        double i8 = Estuary.Engine.Evaluation.PerplexityEvaluator.Evaluate(lm, ids, 256, kvCacheDType: DType.I8).Perplexity;
        Assert.NotEqual(f32, i8); // the cache really is quantized
        Assert.InRange(i8, f32 * 0.999, f32 * 1.001);
    }

    [Fact]
    public void UnsupportedDTypeIsRejectedByName()
    {
        var errors = new EngineConfig { KvCacheDType = DType.I32 }.Validate();
        Assert.Contains(errors, e => e.Contains("kv_cache_dtype", StringComparison.Ordinal));
    }
}
