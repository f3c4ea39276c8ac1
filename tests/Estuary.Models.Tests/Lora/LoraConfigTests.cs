// adapter_config.json parsing and PEFT's matching rules: list vs regex targets, rank/alpha patterns, rsLoRA scale, key variants.
using Estuary.Models.Lora;

namespace Estuary.Models.Tests.Lora;

public sealed class LoraConfigTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("estuary-lora-config-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private LoraConfig Load(string json)
    {
        var dir = Directory.CreateTempSubdirectory("cfg-").FullName;
        File.WriteAllText(Path.Combine(dir, "adapter_config.json"), json);
        try
        {
            return LoraConfig.Load(dir);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void FixtureConfigGivesScaleTwoOnItsTargets()
    {
        var c = LoraConfig.Load(TestAdapters.FixtureDir);
        Assert.Equal(8, c.Rank);
        Assert.Equal(2f, c.ScaleFor("model.layers.0.self_attn.W_pack"));
        Assert.True(c.IsTarget("model.layers.1.mlp.down_proj"));
        Assert.False(c.IsTarget("model.layers.1.mlp.down_proj_x"));
        Assert.False(c.IsTarget("lm_head"));
        Assert.Equal("baichuan2-tiny-rope", c.BaseModelNameOrPath);
    }

    [Fact]
    public void RegexTargetsMustMatchTheWholeName()
    {
        var c = Load("""{"r": 4, "lora_alpha": 8, "target_modules": ".*layers\\.1\\..*(q_proj|v_proj)"}""");
        Assert.True(c.IsTarget("model.layers.1.self_attn.q_proj"));
        Assert.False(c.IsTarget("model.layers.0.self_attn.q_proj"));
        Assert.False(c.IsTarget("model.layers.1.self_attn.q_proj.extra"));
    }

    [Fact]
    public void PatternsOverrideRankAndAlphaPerModuleAndRsLoraUsesSquareRoot()
    {
        var c = Load("""
            {"r": 8, "lora_alpha": 16, "use_rslora": true, "target_modules": ["q_proj", "v_proj"],
             "rank_pattern": {"v_proj": 4}, "alpha_pattern": {"layers\\.0\\.self_attn\\.q_proj": 32}}
            """);
        Assert.Equal(4, c.RankFor("model.layers.3.self_attn.v_proj"));
        Assert.Equal(8, c.RankFor("model.layers.3.self_attn.q_proj"));
        Assert.Equal(16f / 2f, c.ScaleFor("model.layers.3.self_attn.v_proj"), 1e-6f);
        Assert.Equal(32f / MathF.Sqrt(8), c.ScaleFor("model.layers.0.self_attn.q_proj"), 1e-6f);
        Assert.Equal(16f / MathF.Sqrt(8), c.ScaleFor("model.layers.10.self_attn.q_proj"), 1e-6f);
    }

    [Fact]
    public void BadConfigsNameTheField()
    {
        Assert.Contains("target_modules", Assert.Throws<InvalidDataException>(() => Load("""{"r": 4}""")).Message);
        Assert.Contains("r must be", Assert.Throws<InvalidDataException>(() => Load("""{"r": 0, "target_modules": ["q_proj"]}""")).Message);
        Assert.Contains("peft_type", Assert.Throws<InvalidDataException>(() => Load("""{"peft_type": "IA3", "target_modules": ["q_proj"]}""")).Message);
        Assert.Contains("not valid JSON", Assert.Throws<InvalidDataException>(() => Load("{")).Message);
        // A number written as a string is a type error naming the field, not System.Text.Json's InvalidOperationException.
        Assert.EndsWith("r must be an integer", Assert.Throws<InvalidDataException>(() => Load("""{"r": "8", "target_modules": ["q_proj"]}""")).Message);
        Assert.EndsWith("rank_pattern must be positive integers", Assert.Throws<InvalidDataException>(() =>
            Load("""{"r": 8, "target_modules": ["q_proj"], "rank_pattern": {"q_proj": "4"}}""")).Message);
    }

    [Fact]
    public void KeysWithAdapterNamesAreRead()
    {
        var tensors = TestAdapters.FixtureTensors().ToDictionary(p => p.Key.Replace(".weight", ".default.weight"), p => p.Value);
        using var adapter = LoraAdapter.Open(TestAdapters.Write(Path.Combine(_root, "named"), tensors));
        Assert.Equal(10, adapter.Modules.Count);
        Assert.Empty(adapter.ReplacedTensors);
        var m = adapter.Modules["model.layers.1.mlp.down_proj"];
        Assert.Equal(8, m.Rank);
        Assert.Equal(new Estuary.Tensors.Shape(64, 172), m.DeltaShape);
    }
}
