// Unmerged adapters in the engine: greedy outputs equal the merged reference, base and adapter requests share one batch,
// prefix caching never shares KV between adapters, and merge → load round-trips.
using Estuary.Models.Lora;
using Estuary.Tensors;
using Estuary.Testing;

namespace Estuary.Engine.Tests.Lora;

public sealed class LoraEngineTests : IDisposable
{
    private static readonly string s_base = Fixtures.Path("baichuan2-tiny-rope");
    private static readonly string s_adapter = Fixtures.Path("lora");
    private readonly string _root = Directory.CreateTempSubdirectory("estuary-lora-engine-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static EngineConfig Config(bool prefixCaching = true) =>
        new() { NumThreads = 2, NumKvBlocks = 128, BlockSize = 4, EnablePrefixCaching = prefixCaching };

    private static SamplingParams Greedy(string? lora) => SamplingParams.Greedy(32) with { IgnoreEos = true, LoraName = lora };

    [Fact]
    public void UnmergedAdapterGreedyIdsEqualTheMergedReference()
    {
        var cases = ReferenceCases.Load("lora");
        using var llm = Llm.Load(s_base, Config(), loras: new Dictionary<string, string> { ["bible"] = s_adapter });
        Assert.Equal(["bible"], llm.Engine.LoraNames);
        var results = llm.Generate([.. cases.Select(c => c.PromptIds)], Greedy("bible"));
        for (int i = 0; i < cases.Count; i++) Assert.Equal(cases[i].GreedyIds, results[i].OutputIds);
    }

    [Fact]
    public void SpeculativeDecodingKeepsTheReferenceIdsOfAdapterAndBaseRequests()
    {
        // Drafts run with their sequence's adapter; base and adapter requests mixed in one batch give the same ids as without
        // speculation, and the adapter's are still the merged reference.
        var cases = ReferenceCases.Load("lora");
        var prompts = cases.Select(c => c.PromptIds).Concat(cases.Select(c => c.PromptIds)).ToArray();
        var sampling = prompts.Select((_, i) => Greedy(i < cases.Count ? "bible" : null) with { MaxTokens = 64 }).ToArray();
        var loras = new Dictionary<string, string> { ["bible"] = s_adapter };
        using var plain = Llm.Load(s_base, Config(), loras: loras);
        using var speculative = Llm.Load(s_base, Config() with { NumSpeculativeTokens = 4, PromptLookupMin = 1 }, loras: loras);
        var expected = plain.Generate(prompts, sampling);
        var actual = speculative.Generate(prompts, sampling);
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(expected[i].OutputIds, actual[i].OutputIds);
        for (int i = 0; i < cases.Count; i++) Assert.Equal(cases[i].GreedyIds, actual[i].OutputIds[..cases[i].GreedyIds.Length]);
        Assert.True(speculative.Engine.Stats.NumAcceptedDraftTokens > 0);
    }

    [Fact]
    public void FactorsInTheModelDTypeStillGiveTheReferenceGreedyIdsButAreNotBitExact()
    {
        // The fixture base is 16-bit and its adapter F32: --lora-dtype auto rounds the factors, as vLLM does by default.
        var cases = ReferenceCases.Load("lora");
        using var exact = Llm.Load(s_base, Config(), loras: new Dictionary<string, string> { ["bible"] = s_adapter });
        using var rounded = Llm.Load(s_base, Config() with { LoraInModelDType = true }, loras: new Dictionary<string, string> { ["bible"] = s_adapter });
        var a = exact.Generate([.. cases.Select(c => c.PromptIds)], Greedy("bible") with { Logprobs = 1 });
        var b = rounded.Generate([.. cases.Select(c => c.PromptIds)], Greedy("bible") with { Logprobs = 1 });
        bool anyDifferent = false;
        for (int i = 0; i < cases.Count; i++)
        {
            Assert.Equal(cases[i].GreedyIds, b[i].OutputIds);
            anyDifferent |= !a[i].Logprobs!.Select(l => l.Logprob).SequenceEqual(b[i].Logprobs!.Select(l => l.Logprob));
        }
        Assert.True(anyDifferent, "rounded factors should change some logprob (else the option did nothing)");
    }

    [Fact]
    public void BaseAndTwoAdaptersRunInOneBatch()
    {
        var adapterCases = ReferenceCases.Load("lora");
        var baseCases = ReferenceCases.Load("baichuan2-tiny-rope");
        // The same adapter under a second name, read from the .bin format.
        var binCopy = Directory.CreateDirectory(Path.Combine(_root, "bin")).FullName;
        File.Copy(Path.Combine(s_adapter, "adapter_config.json"), Path.Combine(binCopy, "adapter_config.json"));
        File.Copy(Path.Combine(s_adapter, "adapter_model.bin"), Path.Combine(binCopy, "adapter_model.bin"));
        using var engine = LlmEngine.Load(s_base, Config(), loras: new Dictionary<string, string> { ["st"] = s_adapter, ["bin"] = binCopy });

        var expected = new Dictionary<string, int[]>();
        for (int i = 0; i < adapterCases.Count; i++)
        {
            engine.AddRequest($"base-{i}", baseCases[i].PromptIds, Greedy(null));
            expected[$"base-{i}"] = baseCases[i].GreedyIds[..32];
            engine.AddRequest($"st-{i}", adapterCases[i].PromptIds, Greedy("st"));
            expected[$"st-{i}"] = adapterCases[i].GreedyIds;
            engine.AddRequest($"bin-{i}", adapterCases[i].PromptIds, Greedy("bin"));
            expected[$"bin-{i}"] = adapterCases[i].GreedyIds;
        }
        var outputs = expected.Keys.ToDictionary(k => k, _ => new List<int>());
        bool first = true;
        while (engine.HasUnfinishedRequests)
        {
            foreach (var o in engine.Step()) outputs[o.RequestId].AddRange(o.NewTokenIds);
            // Every request, base and both adapters, is in the first step (one mixed batch).
            if (first) Assert.Equal(expected.Count, engine.Stats.NumRunning);
            first = false;
        }
        foreach (var (id, ids) in expected) Assert.Equal(ids, outputs[id]);
    }

    [Fact]
    public void PrefixCacheIsNotSharedBetweenAdaptersButIsWithinOne()
    {
        var c = ReferenceCases.Load("lora")[0];
        using var engine = LlmEngine.Load(s_base, Config(), loras: new Dictionary<string, string> { ["a"] = s_adapter, ["b"] = s_adapter });
        int[] Run(string id, string? lora, out int cached)
        {
            engine.AddRequest(id, c.PromptIds, Greedy(lora));
            var ids = new List<int>();
            int numCached = 0;
            while (engine.HasUnfinishedRequests)
            {
                foreach (var o in engine.Step())
                {
                    ids.AddRange(o.NewTokenIds);
                    numCached = o.NumCachedTokens;
                }
            }
            cached = numCached;
            return [.. ids];
        }
        var baseIds = Run("base", null, out int baseCached);
        Assert.Equal(0, baseCached);
        var a1 = Run("a1", "a", out int a1Cached);
        Assert.Equal(0, a1Cached);                      // the base model's blocks hold base KV: not reusable by an adapter
        Assert.Equal(c.GreedyIds, a1);
        var a2 = Run("a2", "a", out int a2Cached);
        Assert.True(a2Cached >= 16, $"cached {a2Cached}"); // same adapter, same prompt: its own blocks are reused
        Assert.Equal(c.GreedyIds, a2);
        var b1 = Run("b1", "b", out int b1Cached);
        Assert.Equal(0, b1Cached);                      // another adapter (even with equal weights) never shares
        Assert.Equal(c.GreedyIds, b1);
        var base2 = Run("base2", null, out int base2Cached);
        Assert.True(base2Cached >= 16);
        Assert.Equal(baseIds, base2);
        Assert.NotEqual(baseIds, a1);
    }

    [Fact]
    public void MergedFolderLoadsAndGivesTheSameOutputsAsUnmerged()
    {
        var cases = ReferenceCases.Load("lora");
        var merged = Path.Combine(_root, "merged");
        LoraMerger.Merge(new LoraMergeOptions(s_adapter, merged) { DType = DType.F32 });
        using var llm = Llm.Load(merged, Config());
        var results = llm.Generate([.. cases.Select(c => c.PromptIds)], Greedy(null));
        for (int i = 0; i < cases.Count; i++) Assert.Equal(cases[i].GreedyIds, results[i].OutputIds);
    }

    [Fact]
    public void UnknownAdapterNamesAndTooManyAdaptersAreRefused()
    {
        using var engine = LlmEngine.Load(s_base, Config(), loras: new Dictionary<string, string> { ["bible"] = s_adapter });
        var e = Assert.Throws<ArgumentException>(() => engine.AddRequest("x", [1, 2, 3], Greedy("nope")));
        Assert.Contains("lora_name 'nope'", e.Message);
        Assert.Contains("bible", e.Message);
        Assert.False(engine.HasUnfinishedRequests);

        var many = Enumerable.Range(0, 3).ToDictionary(i => $"a{i}", _ => s_adapter);
        var tooMany = Assert.Throws<ArgumentException>(() => LlmEngine.Load(s_base, Config() with { MaxLoras = 2 }, loras: many));
        Assert.Contains("max_loras", tooMany.Message);
        Assert.Contains("max_loras must be positive", string.Join(";", (Config() with { MaxLoras = 0 }).Validate()));
    }
}
