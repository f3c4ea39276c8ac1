// Greedy generation through the whole engine equals the reference continuations, however requests are batched, chunked,
// cached or preempted; and the block pool is all free afterwards.
using Estuary.Engine.Scheduling;
using Estuary.Testing;

namespace Estuary.Engine.Tests;

public class GreedyGenerationTests
{
    public static TheoryData<string> Models => new() { "stories260k", "baichuan2-tiny-rope", "baichuan2-tiny-alibi", "baichuan2-bible-256" };

    private static (IReadOnlyList<GenerationResult> Results, EngineStats Stats) Run(string model, EngineConfig config, bool oneAtATime = false)
    {
        var cases = ReferenceCases.Load(model);
        using var llm = Llm.Load(Fixtures.Path(model), config);
        var results = new List<GenerationResult>();
        var prompts = cases.Select(c => c.PromptIds).ToArray();
        var sampling = cases.Select(c => SamplingParams.Greedy(c.GreedyIds.Length) with { IgnoreEos = true }).ToArray();
        if (oneAtATime)
            for (int i = 0; i < prompts.Length; i++) results.AddRange(llm.Generate([prompts[i]], [sampling[i]]));
        else
            results.AddRange(llm.Generate(prompts, sampling));
        var stats = llm.Engine.Stats;
        Assert.Equal(stats.NumKvBlocks, stats.NumFreeKvBlocks); // no leaked blocks
        for (int i = 0; i < cases.Count; i++)
            Assert.True(cases[i].GreedyIds.SequenceEqual(results[i].OutputIds),
                $"{model}/{cases[i].Name}: expected [{string.Join(",", cases[i].GreedyIds)}] got [{string.Join(",", results[i].OutputIds)}]");
        return (results, stats);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void BatchedGreedyMatchesReference(string model) => Run(model, new EngineConfig());

    [Theory]
    [MemberData(nameof(Models))]
    public void OneAtATimeGreedyMatchesReference(string model) => Run(model, new EngineConfig { EnablePrefixCaching = false }, oneAtATime: true);

    [Theory]
    [MemberData(nameof(Models))]
    public void SmallChunkedPrefillMatchesReference(string model) =>
        Run(model, new EngineConfig { MaxNumBatchedTokens = 7, BlockSize = 4 });

    [Fact]
    public void PrefixCachingReusesBlocksAndKeepsOutputs()
    {
        // Running the same batch twice on one engine: the second pass hits the cache for every full prompt block.
        var cases = ReferenceCases.Load("stories260k");
        using var llm = Llm.Load(Fixtures.Path("stories260k"), new EngineConfig { BlockSize = 4, EnablePrefixCaching = true });
        var prompts = cases.Select(c => c.PromptIds).ToArray();
        var sampling = cases.Select(c => SamplingParams.Greedy(c.GreedyIds.Length) with { IgnoreEos = true }).ToArray();
        var first = llm.Generate(prompts, sampling);
        int cachedTokens = 0;
        var id = "again";
        llm.Engine.AddRequest(id, cases[^1].PromptIds, sampling[^1]);
        var outputs = new List<int>();
        while (llm.Engine.HasUnfinishedRequests)
        {
            foreach (var o in llm.Engine.Step())
            {
                outputs.AddRange(o.NewTokenIds);
                cachedTokens = Math.Max(cachedTokens, o.NumCachedTokens);
            }
        }
        Assert.Equal(cases[^1].GreedyIds, outputs);
        Assert.Equal((cases[^1].PromptIds.Length - 1) / 4 * 4, cachedTokens);
        var second = llm.Generate(prompts, sampling);
        for (int i = 0; i < cases.Count; i++) Assert.Equal(first[i].OutputIds, second[i].OutputIds);
        Assert.Equal(llm.Engine.Stats.NumKvBlocks, llm.Engine.Stats.NumFreeKvBlocks);
    }

    [Fact]
    public void MaxUtilizationPreemptsAndStillMatches()
    {
        // stories260k: longest request is 45 + 80 tokens = 8 blocks of 16; 6 requests need ~40 blocks; give 12.
        var (_, stats) = Run("stories260k", new EngineConfig { NumKvBlocks = 12, Policy = SchedulingPolicy.MaxUtilization, EnablePrefixCaching = false });
        Assert.True(stats.NumPreemptions > 0, "expected preemptions with a cache too small for all requests");
        Assert.True(stats.PeakUsedKvBlocks <= 12);
    }

    [Fact]
    public void MaxUtilizationPreemptsWithPrefixCachingAndStillMatches()
    {
        var (_, stats) = Run("baichuan2-tiny-rope", new EngineConfig { NumKvBlocks = 30, BlockSize = 16, EnablePrefixCaching = true });
        Assert.True(stats.NumPreemptions > 0);
    }

    [Fact]
    public void GuaranteedNoEvictNeverPreemptsAndMatches()
    {
        var (_, stats) = Run("stories260k", new EngineConfig { NumKvBlocks = 12, Policy = SchedulingPolicy.GuaranteedNoEvict, EnablePrefixCaching = false });
        Assert.Equal(0, stats.NumPreemptions);
        Assert.True(stats.PeakUsedKvBlocks <= 12);
    }

    [Fact]
    public void NaiveBaselineServesOneRequestAtATimeWithTheSameOutputs()
    {
        var (_, stats) = Run("baichuan2-tiny-rope", new EngineConfig().AsNaiveBaseline());
        Assert.Equal(0, stats.NumPreemptions);
        var cases = ReferenceCases.Load("baichuan2-tiny-rope");
        int longest = cases.Max(c => c.PromptIds.Length + c.GreedyIds.Length);
        Assert.True(stats.PeakUsedKvBlocks <= (longest + 15) / 16, $"peak {stats.PeakUsedKvBlocks} blocks: more than one request held KV at once");
    }
}
