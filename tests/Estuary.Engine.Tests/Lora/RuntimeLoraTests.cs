// Runtime LoRA updating in the engine: an adapter loaded while the engine runs gives exactly the outputs of one given at start;
// unload, reload, capacity and bad folders; the prefix cache never hands a later adapter in the same slot the KV of an unloaded
// one; a request running during its adapter's unload finishes, then the slot and all KV blocks are free; off = no wrappers at all.
using Estuary.Models;
using Estuary.Models.Layers;
using Estuary.Models.Loading;
using Estuary.Models.Lora;
using Estuary.Models.Synthetic;
using Estuary.Tensors;
using Estuary.Testing;

namespace Estuary.Engine.Tests.Lora;

public sealed class RuntimeLoraTests : IDisposable
{
    private static readonly string s_base = Fixtures.Path("baichuan2-tiny-rope");
    private static readonly string s_adapter = Fixtures.Path("lora");
    private readonly string _root = Directory.CreateTempSubdirectory("estuary-runtime-lora-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static EngineConfig Fixed() => new() { NumThreads = 2, NumKvBlocks = 128, BlockSize = 4 };

    private static EngineConfig Runtime(int maxLoras = 4) => Fixed() with { EnableRuntimeLoraUpdating = true, MaxLoras = maxLoras };

    private static SamplingParams Greedy(string? lora) => SamplingParams.Greedy(32) with { IgnoreEos = true, LoraName = lora, Logprobs = 0 };

    private sealed record Run(int[] Ids, float[] Logprobs, int NumCachedTokens);

    private static Run Generate(LlmEngine engine, int[] prompt, string? lora)
    {
        var id = Guid.NewGuid().ToString();
        engine.AddRequest(id, prompt, Greedy(lora));
        var ids = new List<int>();
        var logprobs = new List<float>();
        int cached = 0;
        while (engine.HasUnfinishedRequests)
        {
            foreach (var o in engine.Step())
            {
                ids.AddRange(o.NewTokenIds);
                logprobs.AddRange(o.NewLogprobs?.Select(l => l.Logprob) ?? []);
                cached = o.NumCachedTokens;
            }
        }
        Assert.Equal(ids.Count, logprobs.Count);
        return new Run([.. ids], [.. logprobs], cached);
    }

    private string RandomAdapter(string name, int seed)
    {
        var dir = Path.Combine(_root, name);
        RandomLoraWriter.Write(s_base, dir, rank: 8, alpha: 16, seed);
        return dir;
    }

    // The fixture adapter with the last layer's down_proj lora_A cut to half its columns: every other module fits, so a load checks
    // (and prepares) all of them before it meets the misfit at the very last linear.
    private string MisfitAdapter()
    {
        var dir = Directory.CreateDirectory(Path.Combine(_root, "misfit")).FullName;
        File.Copy(Path.Combine(s_adapter, "adapter_config.json"), Path.Combine(dir, "adapter_config.json"));
        using var reader = CheckpointIndex.OpenFile(Path.Combine(s_adapter, "adapter_model.safetensors"));
        int last = reader.Names.Max(n => int.Parse(n.Split(".layers.")[1].Split('.')[0]));
        var tensors = new List<TensorToWrite>();
        foreach (var name in reader.Names)
        {
            var w = reader.Load(name);
            bool cut = name.Contains($".layers.{last}.mlp.down_proj.lora_A", StringComparison.Ordinal);
            int cols = cut ? w.Cols / 2 : w.Cols;
            var data = new float[w.Rows * cols];
            for (int r = 0; r < w.Rows; r++)
                for (int c = 0; c < cols; c++) data[r * cols + c] = w.GetFloat((long)r * w.Cols + c);
            tensors.Add(TensorToWrite.FromBytes(name, DType.F32, new Shape(w.Rows, cols), System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()).ToArray()));
        }
        SafetensorsWriter.WriteFile(Path.Combine(dir, "adapter_model.safetensors"), tensors);
        return dir;
    }

    private static IEnumerable<ILinear> Projections(LlmEngine engine)
    {
        foreach (var layer in ((CausalLm)engine.Model).Layers)
        {
            var a = layer.Attention;
            var m = layer.Mlp;
            foreach (var linear in new[] { a.QProj, a.KProj, a.VProj, a.OProj, m.Gate, m.Up, m.Down }) yield return linear;
        }
    }

    [Fact]
    public void AnAdapterLoadedAtRunTimeGivesExactlyTheOutputsOfTheSameAdapterGivenAtStart()
    {
        var cases = ReferenceCases.Load("lora");
        using var atStart = LlmEngine.Load(s_base, Fixed(), loras: new Dictionary<string, string> { ["bible"] = s_adapter });
        using var runtime = LlmEngine.Load(s_base, Runtime());
        Assert.Empty(runtime.LoraNames);
        var baseBefore = Generate(runtime, cases[0].PromptIds, null);   // the engine serves before any adapter exists
        runtime.LoadLora("bible", s_adapter);
        Assert.Equal(["bible"], runtime.LoraNames);
        foreach (var c in cases)
        {
            var expected = Generate(atStart, c.PromptIds, "bible");
            var actual = Generate(runtime, c.PromptIds, "bible");
            Assert.Equal(c.GreedyIds, actual.Ids);
            Assert.Equal(expected.Ids, actual.Ids);
            Assert.Equal(expected.Logprobs, actual.Logprobs);           // bit for bit
        }
        // Base requests are untouched by the empty slots, before and after the load.
        var baseAtStart = Generate(atStart, cases[0].PromptIds, null);
        Assert.Equal(baseAtStart.Logprobs, baseBefore.Logprobs);
        Assert.Equal(baseAtStart.Logprobs, Generate(runtime, cases[0].PromptIds, null).Logprobs);
        Assert.NotEqual(baseAtStart.Ids, Generate(runtime, cases[0].PromptIds, "bible").Ids);
    }

    [Fact]
    public void AnUnloadedNameIsRefusedAndCanBeLoadedAgain()
    {
        var c = ReferenceCases.Load("lora")[0];
        using var engine = LlmEngine.Load(s_base, Runtime());
        engine.LoadLora("bible", s_adapter);
        var taken = Assert.Throws<ArgumentException>(() => engine.LoadLora("bible", s_adapter));
        Assert.Equal("name", taken.ParamName);
        Assert.Contains("'bible' is already loaded", taken.Message);
        Assert.Equal(c.GreedyIds, Generate(engine, c.PromptIds, "bible").Ids);

        Assert.True(engine.UnloadLora("bible"));
        Assert.Empty(engine.LoraNames);
        Assert.False(engine.UnloadLora("bible"));
        var refused = Assert.Throws<ArgumentException>(() => engine.AddRequest("x", c.PromptIds, Greedy("bible")));
        Assert.Contains("lora_name 'bible' is not a loaded adapter", refused.Message);
        Assert.False(engine.HasUnfinishedRequests);

        engine.LoadLora("bible", s_adapter);
        Assert.Equal(c.GreedyIds, Generate(engine, c.PromptIds, "bible").Ids);
        Assert.Equal(engine.NumKvBlocks, engine.Stats.NumFreeKvBlocks);
    }

    [Fact]
    public void MaxLorasBoundsTheLoadedAdaptersAndAnUnloadMakesRoom()
    {
        using var engine = LlmEngine.Load(s_base, Runtime(maxLoras: 2));
        engine.LoadLora("a", s_adapter);
        engine.LoadLora("b", s_adapter);
        var full = Assert.Throws<InvalidOperationException>(() => engine.LoadLora("c", s_adapter));
        Assert.Contains("max_loras (2)", full.Message);
        Assert.Equal(["a", "b"], engine.LoraNames);
        Assert.True(engine.UnloadLora("a"));
        engine.LoadLora("c", s_adapter);
        Assert.Equal(["b", "c"], engine.LoraNames.Order());
        var c = ReferenceCases.Load("lora")[0];
        Assert.Equal(c.GreedyIds, Generate(engine, c.PromptIds, "c").Ids);
    }

    [Fact]
    public void AFolderThatIsMissingBrokenOrDoesNotFitChangesNothing()
    {
        var c = ReferenceCases.Load("lora")[0];
        using var engine = LlmEngine.Load(s_base, Runtime());
        engine.LoadLora("good", s_adapter);
        var goodBefore = Generate(engine, c.PromptIds, "good");
        var baseBefore = Generate(engine, c.PromptIds, null);

        var missing = Assert.Throws<ArgumentException>(() => engine.LoadLora("x", Path.Combine(_root, "nowhere")));
        Assert.Equal("dir", missing.ParamName);
        Assert.Contains("nowhere", missing.Message);

        var noWeights = Directory.CreateDirectory(Path.Combine(_root, "config-only")).FullName;
        File.Copy(Path.Combine(s_adapter, "adapter_config.json"), Path.Combine(noWeights, "adapter_config.json"));
        Assert.Contains("no adapter weights", Assert.Throws<ArgumentException>(() => engine.LoadLora("x", noWeights)).Message);

        var misfit = Assert.Throws<ArgumentException>(() => engine.LoadLora("x", MisfitAdapter()));
        Assert.Equal("dir", misfit.ParamName);
        Assert.Contains("shape mismatch", misfit.Message);
        Assert.Contains("mlp.down_proj", misfit.Message);

        // Nothing of the failed loads is installed anywhere: only the good adapter's slot holds factors, in every projection.
        Assert.Equal(["good"], engine.LoraNames);
        foreach (var linear in Projections(engine))
        {
            var slots = Assert.IsType<LoraLinear>(linear).Slots;
            Assert.Equal(5, slots.Length);
            Assert.Equal(1, slots.Count(s => s is not null));
        }
        var goodAfter = Generate(engine, c.PromptIds, "good");
        Assert.Equal(goodBefore.Ids, goodAfter.Ids);
        Assert.Equal(goodBefore.Logprobs, goodAfter.Logprobs);
        Assert.Equal(baseBefore.Logprobs, Generate(engine, c.PromptIds, null).Logprobs);
        engine.LoadLora("x", s_adapter);                                 // the name was not taken by the failures
    }

    [Fact]
    public void APrefixCachedUnderAnUnloadedAdapterIsNeverReusedByTheNextAdapterInItsSlot()
    {
        var prompt = ReferenceCases.Load("lora")[0].PromptIds;
        var other = RandomAdapter("b", seed: 3);
        Run expected;
        using (var fresh = LlmEngine.Load(s_base, Fixed(), loras: new Dictionary<string, string> { ["b"] = other }))
            expected = Generate(fresh, prompt, "b");

        using var engine = LlmEngine.Load(s_base, Runtime(maxLoras: 1)); // one slot: b must land where a was
        engine.LoadLora("a", s_adapter);
        var a = Generate(engine, prompt, "a");
        var again = Generate(engine, prompt, "a");
        Assert.True(again.NumCachedTokens >= 16, $"the same adapter reuses its prefix (cached {again.NumCachedTokens})");
        Assert.True(engine.UnloadLora("a"));
        engine.LoadLora("b", other);
        var b = Generate(engine, prompt, "b");
        Assert.Equal(0, b.NumCachedTokens);
        Assert.NotEqual(a.Ids, b.Ids);
        Assert.Equal(expected.Ids, b.Ids);
        Assert.Equal(expected.Logprobs, b.Logprobs);
    }

    [Fact]
    public void ARequestRunningDuringItsAdaptersUnloadFinishesThenTheSlotAndEveryBlockAreFree()
    {
        var c = ReferenceCases.Load("lora")[0];
        using var engine = LlmEngine.Load(s_base, Runtime(maxLoras: 1) with { EnablePrefixCaching = false });
        engine.LoadLora("a", s_adapter);
        engine.AddRequest("running", c.PromptIds, Greedy("a"));
        engine.AddRequest("second", c.PromptIds, Greedy("a"));           // every unfinished request of the adapter holds its slot
        var ids = new Dictionary<string, List<int>> { ["running"] = [], ["second"] = [] };
        void Collect(IReadOnlyList<RequestOutput> outputs)
        {
            foreach (var o in outputs) ids[o.RequestId].AddRange(o.NewTokenIds);
        }
        for (int i = 0; i < 3; i++) Collect(engine.Step());
        Assert.NotEmpty(ids["running"]);

        Assert.True(engine.UnloadLora("a"));
        Assert.Empty(engine.LoraNames);
        Assert.Contains(engine.ValidateRequest(c.PromptIds, Greedy("a")), e => e.Contains("lora_name 'a'"));
        var draining = Assert.Throws<InvalidOperationException>(() => engine.LoadLora("b", s_adapter));
        Assert.Contains("still finishing requests", draining.Message);

        while (engine.HasUnfinishedRequests) Collect(engine.Step());
        Assert.Equal(c.GreedyIds, ids["running"]);                        // it kept its adapter to the end
        Assert.Equal(c.GreedyIds, ids["second"]);
        Assert.Equal(engine.NumKvBlocks, engine.Stats.NumFreeKvBlocks);
        engine.LoadLora("b", s_adapter);                                  // the slot was freed with its last request
        Assert.Equal(c.GreedyIds, Generate(engine, c.PromptIds, "b").Ids);
    }

    [Fact]
    public void AnAbortedRequestAlsoReleasesItsUnloadedAdapter()
    {
        using var engine = LlmEngine.Load(s_base, Runtime(maxLoras: 1));
        engine.LoadLora("a", s_adapter);
        engine.AddRequest("r", [1, 2, 3, 4, 5], Greedy("a"));
        engine.Step();
        Assert.True(engine.UnloadLora("a"));
        Assert.Throws<InvalidOperationException>(() => engine.LoadLora("b", s_adapter));
        Assert.True(engine.Abort("r"));
        engine.LoadLora("b", s_adapter);
        Assert.Equal(["b"], engine.LoraNames);
    }

    [Fact]
    public void WithoutRuntimeUpdatingTheModelHasNoWrappersAndLoadsAreRefused()
    {
        using var plain = LlmEngine.Load(s_base, Fixed());
        Assert.False(plain.RuntimeLoraUpdating);
        Assert.All(Projections(plain), linear => Assert.IsNotType<LoraLinear>(linear));
        var off = Assert.Throws<InvalidOperationException>(() => plain.LoadLora("a", s_adapter));
        Assert.Contains("runtime LoRA updating is off", off.Message);
        Assert.False(plain.UnloadLora("a"));

        // Start-up adapters without the switch stay fixed too.
        using var fixedSet = LlmEngine.Load(s_base, Fixed(), loras: new Dictionary<string, string> { ["a"] = s_adapter });
        Assert.Throws<InvalidOperationException>(() => fixedSet.LoadLora("b", s_adapter));

        using var runtime = LlmEngine.Load(s_base, Runtime(maxLoras: 3));
        Assert.True(runtime.RuntimeLoraUpdating);
        Assert.All(Projections(runtime), linear => Assert.Equal(4, Assert.IsType<LoraLinear>(linear).Slots.Length));
    }

    [Fact]
    public async Task TheAsyncEngineLoadsAndUnloadsBetweenStepsWhileStreaming()
    {
        var c = ReferenceCases.Load("lora")[0];
        using var engine = new AsyncLlmEngine(LlmEngine.Load(s_base, Runtime()));
        await engine.LoadLoraAsync("a", s_adapter);
        var ids = new List<int>();
        bool unloaded = false;
        await foreach (var o in engine.Generate(c.PromptIds, Greedy("a")))
        {
            ids.AddRange(o.NewTokenIds);
            if (!unloaded && ids.Count > 0) unloaded = await engine.UnloadLoraAsync("a");
        }
        Assert.True(unloaded);
        Assert.Equal(c.GreedyIds, ids);
        Assert.False(await engine.UnloadLoraAsync("a"));
        await Assert.ThrowsAsync<ArgumentException>(() => engine.LoadLoraAsync("b", Path.Combine(_root, "nowhere")));
        await engine.LoadLoraAsync("b", s_adapter);
        Assert.Equal(["b"], engine.Engine.LoraNames);
    }
}
