// Adapters that do not fit their base, or are malformed, fail before anything is written, with a message naming the problem.
using Estuary.Models.Loading;
using Estuary.Models.Lora;
using Estuary.Testing;

namespace Estuary.Models.Tests.Lora;

public sealed class LoraBadInputTests : IDisposable
{
    private const string Pack0 = "base_model.model.model.layers.0.self_attn.W_pack";
    private readonly string _root = Directory.CreateTempSubdirectory("estuary-lora-bad-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Output => Path.Combine(_root, "out");

    private Exception MergeFails(string adapter, string? baseDir = null)
    {
        var e = Assert.ThrowsAny<Exception>(() => LoraMerger.Merge(new LoraMergeOptions(adapter, Output) { BaseDir = baseDir ?? TestAdapters.BaseDir }));
        Assert.False(Directory.Exists(Output), "nothing may be written on failure");
        Assert.False(TestAdapters.HasTempFolders(_root), "no temporary folder may be left behind");
        return e;
    }

    [Fact]
    public void AdapterForAnotherModelNamesTheMissingModule()
    {
        var e = MergeFails(TestAdapters.FixtureDir, Fixtures.Path("stories260k"));
        Assert.IsType<CheckpointException>(e);
        Assert.Contains("self_attn.W_pack", e.Message);
        Assert.Contains("no tensor", e.Message);
    }

    [Fact]
    public void ShapeMismatchNamesTheTensorAndBothShapes()
    {
        var tensors = TestAdapters.FixtureTensors();
        tensors[Pack0 + ".lora_A.weight"] = ([8, 32], new float[8 * 32]);
        var e = MergeFails(TestAdapters.Write(Path.Combine(_root, "a"), tensors));
        Assert.IsType<CheckpointException>(e);
        Assert.Contains("shape mismatch for 'model.layers.0.self_attn.W_pack.weight'", e.Message);
        Assert.Contains("[192, 64]", e.Message);
        Assert.Contains("[192, 32]", e.Message);
    }

    [Fact]
    public void DifferentRanksInAAndBAreRefused()
    {
        var tensors = TestAdapters.FixtureTensors();
        tensors[Pack0 + ".lora_B.weight"] = ([192, 4], new float[192 * 4]);
        var e = MergeFails(TestAdapters.Write(Path.Combine(_root, "a"), tensors));
        Assert.Contains("ranks differ", e.Message);
        Assert.Contains("model.layers.0.self_attn.W_pack", e.Message);
    }

    [Fact]
    public void RankDisagreeingWithTheConfigIsRefused()
    {
        var e = MergeFails(TestAdapters.Write(Path.Combine(_root, "a"), TestAdapters.FixtureTensors(), c => c["r"] = 16));
        Assert.Contains("declares r = 16", e.Message);
    }

    [Fact]
    public void MissingFactorAndTargetedButAbsentModuleAreRefused()
    {
        var tensors = TestAdapters.FixtureTensors();
        tensors.Remove(Pack0 + ".lora_B.weight");
        Assert.Contains("has lora_A but no lora_B", MergeFails(TestAdapters.Write(Path.Combine(_root, "a"), tensors)).Message);

        tensors = TestAdapters.FixtureTensors();
        tensors.Remove("base_model.model.model.layers.1.mlp.up_proj.lora_A.weight");
        tensors.Remove("base_model.model.model.layers.1.mlp.up_proj.lora_B.weight");
        var e = MergeFails(TestAdapters.Write(Path.Combine(_root, "b"), tensors));
        Assert.Contains("targets 'model.layers.1.mlp.up_proj'", e.Message);
    }

    [Theory]
    [InlineData("hidden_size", "0", "hidden_size must be positive")]
    [InlineData("vocab_size", "0", "vocab_size must be positive")]
    [InlineData("architectures", "[\"GPT2LMHeadModel\"]", "unknown architecture 'GPT2LMHeadModel'")]
    [InlineData("num_attention_heads", "3", @"num_attention_heads|head_dim \(21\)")] // 64 / 3: RoPE needs an even head_dim
    [InlineData("num_hidden_layers", "3", @"tensor 'model\.layers\.2\..*' is missing")]
    public void BaseThatWouldNotLoadIsRefusedBeforeWriting(string field, string json, string expected)
    {
        var baseDir = Directory.CreateDirectory(Path.Combine(_root, "base")).FullName;
        foreach (var file in Directory.GetFiles(TestAdapters.BaseDir))
            File.Copy(file, Path.Combine(baseDir, Path.GetFileName(file)));
        string config = Path.Combine(baseDir, "config.json");
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        root[field] = System.Text.Json.Nodes.JsonNode.Parse(json);
        File.SetAttributes(config, FileAttributes.Normal);
        File.WriteAllText(config, root.ToJsonString());
        var e = MergeFails(TestAdapters.FixtureDir, baseDir);
        Assert.Matches(expected, e.Message);
    }

    [Fact]
    public void MissingFilesAreNamed()
    {
        Assert.IsType<DirectoryNotFoundException>(MergeFails(Path.Combine(_root, "nope")));
        var empty = Directory.CreateDirectory(Path.Combine(_root, "empty")).FullName;
        var e = MergeFails(empty);
        Assert.IsType<FileNotFoundException>(e);
        Assert.Contains("adapter_config.json", e.Message);
        var noWeights = Directory.CreateDirectory(Path.Combine(_root, "noweights")).FullName;
        File.Copy(Path.Combine(TestAdapters.FixtureDir, "adapter_config.json"), Path.Combine(noWeights, "adapter_config.json"));
        e = MergeFails(noWeights);
        Assert.Contains("adapter_model.safetensors, adapter_model.bin", e.Message);
        e = MergeFails(TestAdapters.FixtureDir, Path.Combine(_root, "no-base"));
        Assert.IsType<DirectoryNotFoundException>(e);
    }

    [Fact]
    public void UnresolvableDefaultBaseAsksForBaseModelDir()
    {
        var adapter = TestAdapters.CopyFixture(_root, "adapter_model.safetensors");
        var e = Assert.Throws<DirectoryNotFoundException>(() => LoraMerger.Merge(new LoraMergeOptions(adapter, Output)));
        Assert.Contains("--base-model-dir", e.Message);
        Assert.Contains("baichuan2-tiny-rope", e.Message);
    }

    [Fact]
    public void OutputInsideAnInputIsRefused()
    {
        var adapter = TestAdapters.CopyFixture(_root, "adapter_model.safetensors");
        var e = Assert.Throws<ArgumentException>(() =>
            LoraMerger.Merge(new LoraMergeOptions(adapter, Path.Combine(adapter, "merged")) { BaseDir = TestAdapters.BaseDir }));
        Assert.Contains("overlaps", e.Message);
    }
}
