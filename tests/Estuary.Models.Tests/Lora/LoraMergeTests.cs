// Merging the fixture adapter: merged tensors and merged-model outputs match reference.json, in both adapter formats and dtypes.
using System.Text.Json;
using Estuary.Models.Config;
using Estuary.Models.Loading;
using Estuary.Models.Lora;
using Estuary.Models.Tests.Architectures;
using Estuary.Tensors;
using Estuary.Testing;

namespace Estuary.Models.Tests.Lora;

public sealed class LoraMergeTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("estuary-lora-merge-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("adapter_model.safetensors")]
    [InlineData("adapter_model.bin")]
    public void MergedWeightsMatchReference(string weightsFile)
    {
        var adapter = TestAdapters.CopyFixture(_root, weightsFile);
        var output = Path.Combine(_root, "merged");
        var result = LoraMerger.Merge(new LoraMergeOptions(adapter, output) { BaseDir = TestAdapters.BaseDir, DType = DType.F32 });
        Assert.Equal(10, result.NumMerged);
        Assert.Equal(0, result.NumReplaced);

        using var reference = Fixtures.Json("lora", "reference.json");
        using var merged = CheckpointIndex.Open(output);
        using var baseModel = CheckpointIndex.Open(TestAdapters.BaseDir);
        foreach (var check in reference.RootElement.GetProperty("merged_weight_checks").EnumerateObject())
        {
            var w = merged.Load(check.Name);
            var c = check.Value;
            Assert.Equal(DType.F32, w.DType);
            Assert.Equal(new Shape(c.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray()), w.Shape);
            var first = Fixtures.Floats(c.GetProperty("merged_first16"));
            var baseFirst = Fixtures.Floats(c.GetProperty("base_first16"));
            var b = baseModel.Load(check.Name);
            for (int i = 0; i < first.Length; i++)
            {
                Assert.Equal(first[i], w.GetFloat(i), 1e-6f);
                Assert.Equal(baseFirst[i], b.GetFloat(i), 1e-7f);
            }
            double sum = 0, abs = 0, row0 = 0;
            for (long i = 0; i < w.Shape.NumElements; i++)
            {
                float v = w.GetFloat(i);
                sum += v;
                abs += Math.Abs(v);
                if (i < w.Cols) row0 += v;
            }
            Assert.Equal(c.GetProperty("merged_sum").GetDouble(), sum, 1e-3);
            Assert.Equal(c.GetProperty("merged_abs_sum").GetDouble(), abs, 1e-2);
            Assert.Equal(c.GetProperty("merged_row0_sum").GetDouble(), row0, 1e-4);
        }
        // Tensors the adapter does not touch are copied bit for bit.
        Assert.Equal(baseModel.Load("model.embed_tokens.weight").Bytes.ToArray().Length / 2, merged.Load("model.embed_tokens.weight").Bytes.Length / 4);
        var norm = baseModel.Load("model.norm.weight");
        var mergedNorm = merged.Load("model.norm.weight");
        for (int i = 0; i < norm.Cols; i++) Assert.Equal(norm.GetFloat(i), mergedNorm.GetFloat(i));
    }

    [Fact]
    public void MergedModelReproducesReferenceLogitsAndGreedyIds()
    {
        var output = Path.Combine(_root, "merged");
        LoraMerger.Merge(new LoraMergeOptions(TestAdapters.FixtureDir, output) { DType = DType.F32 });
        using var reference = Fixtures.Json("lora", "reference.json");
        using var harness = new ModelHarness(output);
        foreach (var c in reference.RootElement.GetProperty("cases").EnumerateArray())
        {
            var prompt = Fixtures.Ints(c.GetProperty("prompt_ids"));
            var generated = Fixtures.Ints(c.GetProperty("greedy").GetProperty("generated_ids"));
            var logits = harness.AllLogits([.. prompt, .. generated]);
            ReferenceLogitsTests.AssertClose(Fixtures.Floats(c.GetProperty("merged_logits_last_prompt_position")), logits[prompt.Length - 1], "merged last prompt position");
            // Greedy: each generated token is the argmax after the tokens before it.
            for (int i = 0; i < generated.Length; i++)
                Assert.Equal(generated[i], ArgMax(logits[prompt.Length - 1 + i]));
        }
    }

    [Fact]
    public void DefaultDtypeIsF16AndTheFolderIsComplete()
    {
        var output = Path.Combine(_root, "merged16");
        var result = LoraMerger.Merge(new LoraMergeOptions(TestAdapters.FixtureDir, output));
        Assert.Equal(Path.GetFullPath(TestAdapters.BaseDir), Path.GetFullPath(result.BaseDir));
        foreach (var f in new[] { "config.json", "generation_config.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
                     "model.safetensors.index.json", "model-00001-of-00001.safetensors" })
            Assert.True(File.Exists(Path.Combine(output, f)), f);
        Assert.False(File.Exists(Path.Combine(output, "model.safetensors")));
        using (var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "config.json"))))
            Assert.Equal("float16", config.RootElement.GetProperty("torch_dtype").GetString());
        Assert.Equal(ModelConfig.Load(TestAdapters.BaseDir).HiddenSize, ModelConfig.Load(output).HiddenSize);
        using var merged = CheckpointIndex.Open(output);
        var w = merged.Load("model.layers.0.self_attn.W_pack.weight");
        Assert.Equal(DType.F16, w.DType);
        Assert.Equal(0.234658182f, w.GetFloat(0), 1e-3f);
        Assert.Null(Directory.EnumerateFileSystemEntries(_root).FirstOrDefault(e => Path.GetFileName(e).StartsWith('.')));
    }

    [Fact]
    public void SmallShardSizeWritesSeveralShardsThatLoadAsOneModel()
    {
        var output = Path.Combine(_root, "sharded");
        var result = LoraMerger.Merge(new LoraMergeOptions(TestAdapters.FixtureDir, output) { DType = DType.BF16, MaxShardBytes = 100_000 });
        Assert.True(result.Shards.Count > 2, $"{result.Shards.Count} shards");
        Assert.Equal(result.Shards, Directory.GetFiles(output, "model-*.safetensors").Select(f => Path.GetFileName(f)).Order().ToArray());
        using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(output, "model.safetensors.index.json")));
        Assert.Equal(17, index.RootElement.GetProperty("weight_map").EnumerateObject().Count());
        using var harness = new ModelHarness(output);
        Assert.Equal(2, harness.Model.Layers.Count);
    }

    [Fact]
    public void ModulesToSaveReplaceBaseTensorsAndNonEmptyOutputNeedsOverwrite()
    {
        var tensors = TestAdapters.FixtureTensors();
        var head = new float[1200 * 64];
        for (int i = 0; i < head.Length; i++) head[i] = (i % 7) * 0.25f;
        tensors["base_model.model.lm_head.modules_to_save.default.weight"] = ([1200, 64], head);
        var adapter = TestAdapters.Write(Path.Combine(_root, "with-head"), tensors, c => c["modules_to_save"] = new[] { "lm_head" });
        var output = Path.Combine(_root, "out");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "keep.txt"), "old");
        var options = new LoraMergeOptions(adapter, output) { BaseDir = TestAdapters.BaseDir, DType = DType.F32 };
        var e = Assert.Throws<IOException>(() => LoraMerger.Merge(options));
        Assert.Contains("--overwrite", e.Message);
        Assert.Equal("old", File.ReadAllText(Path.Combine(output, "keep.txt")));

        var result = LoraMerger.Merge(options with { Overwrite = true });
        Assert.Equal(1, result.NumReplaced);
        Assert.False(File.Exists(Path.Combine(output, "keep.txt")));
        using var merged = CheckpointIndex.Open(output);
        var w = merged.Load("lm_head.weight");
        for (int i = 0; i < 50; i++) Assert.Equal(head[i], w.GetFloat(i));
        Assert.False(TestAdapters.HasTempFolders(_root));
    }

    private static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
