// Loading fails at load time, naming the problem: unknown architecture, missing tensor, tensor of the wrong shape, bad config.
using System.Text.Json.Nodes;
using Estuary.Backend.Cpu;
using Estuary.Models.Config;
using Estuary.Models.Loading;
using Estuary.Testing;

namespace Estuary.Models.Tests.Architectures;

public sealed class LoadErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-load-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void CopyFixture(string model, Action<JsonObject>? editConfig = null, Func<string, bool>? keepTensor = null)
    {
        var src = Fixtures.Path(model);
        foreach (var f in Directory.GetFiles(src)) File.Copy(f, Path.Combine(_dir, Path.GetFileName(f)));
        if (editConfig != null)
        {
            var path = Path.Combine(_dir, "config.json");
            var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            editConfig(json);
            File.WriteAllText(path, json.ToJsonString());
        }
        if (keepTensor != null)
        {
            var target = Path.Combine(_dir, "model.safetensors");
            using (var reader = CheckpointIndex.Open(src))
            {
                var tensors = reader.Names.Where(keepTensor).Select(n => TensorToWrite.FromWeight(reader.Load(n))).ToList();
                File.Delete(target);
                SafetensorsWriter.WriteFile(target, tensors);
            }
        }
    }

    private Exception LoadFails()
    {
        using var backend = new CpuBackend(1);
        return Assert.ThrowsAny<Exception>(() => ModelLoader.Load(_dir, backend).Dispose());
    }

    [Fact]
    public void UnknownArchitectureIsNamed()
    {
        CopyFixture("baichuan2-tiny-rope", c => c["architectures"] = new JsonArray("GPTNeoXForCausalLM"));
        var e = LoadFails();
        Assert.IsType<NotSupportedException>(e);
        Assert.Contains("GPTNeoXForCausalLM", e.Message);
    }

    [Fact]
    public void MissingTensorIsNamed()
    {
        CopyFixture("baichuan2-tiny-rope", keepTensor: n => n != "model.layers.1.mlp.up_proj.weight");
        var e = LoadFails();
        Assert.IsType<CheckpointException>(e);
        Assert.Contains("model.layers.1.mlp.up_proj.weight", e.Message);
    }

    [Fact]
    public void WrongShapeIsNamedWithBothShapes()
    {
        CopyFixture("baichuan2-tiny-rope", c => c["intermediate_size"] = 100);
        var e = LoadFails();
        Assert.IsType<CheckpointException>(e);
        Assert.Contains("model.layers.0.mlp.gate_proj.weight", e.Message);
        Assert.Contains("[172, 64]", e.Message);
        Assert.Contains("[100, 64]", e.Message);
    }

    [Fact]
    public void MissingLmHeadWithoutTyingIsNamed()
    {
        CopyFixture("baichuan2-tiny-rope", keepTensor: n => n != "lm_head.weight");
        Assert.Contains("lm_head.weight", LoadFails().Message);
    }

    [Fact]
    public void InvalidConfigValuesNameTheKey()
    {
        CopyFixture("stories260k", c => c["num_key_value_heads"] = 3);
        Assert.Contains("num_key_value_heads", LoadFails().Message);
        File.WriteAllText(Path.Combine(_dir, "config.json"), "{ not json");
        Assert.Contains("config.json", LoadFails().Message);
    }

    [Theory]
    [InlineData("rope_scaling", "{\"type\":\"dynamic\",\"factor\":2}", "rope_scaling type 'dynamic' is not supported (supported: default, linear, llama3, longrope)")]
    [InlineData("rope_scaling", "{\"rope_type\":\"yarn\",\"factor\":4}", "rope_scaling type 'yarn' is not supported")]
    [InlineData("rope_scaling", "{\"rope_type\":\"llama3\"}", "required key 'rope_scaling.factor' is missing")]
    [InlineData("rope_scaling", "{\"rope_type\":\"linear\",\"factor\":0}", "rope_scaling.factor must be a finite number greater than 0 (got 0)")]
    [InlineData("rms_norm_eps", "-1", "rms_norm_eps must be in (0, 1) (got -1)")]
    [InlineData("rms_norm_eps", "1e30", "rms_norm_eps must be in (0, 1)")]
    [InlineData("rope_theta", "0", "rope_theta must be a finite number greater than 1 (got 0)")]
    [InlineData("rope_theta", "-10000", "rope_theta must be a finite number greater than 1 (got -10000)")]
    [InlineData("eos_token_id", "99999", "eos_token_id 99999 is outside the vocabulary [0, 512)")]
    [InlineData("eos_token_id", "[2, -1]", "eos_token_id -1 is outside the vocabulary [0, 512)")]
    [InlineData("bos_token_id", "512", "bos_token_id 512 is outside the vocabulary [0, 512)")]
    public void ValuesThatWouldGiveWrongOrNanLogitsAreRefused(string key, string json, string message)
    {
        // Each of these used to load, then produce NaN (eps ≤ 0, theta ≤ 1), wrongly rotated positions (unsupported or invalid
        // rope_scaling) or ids the embedding cannot hold (bos/eos).
        CopyFixture("stories260k", c => c[key] = JsonNode.Parse(json));
        Assert.Contains(message, LoadFails().Message);
    }

    [Fact]
    public void BaichuanWithRopeScalingIsRefused()
    {
        // Baichuan2's modeling code reads no rope_scaling; loading it unscaled or scaled would both be a guess.
        CopyFixture("baichuan2-tiny-rope", c => c["rope_scaling"] = JsonNode.Parse("{\"rope_type\":\"linear\",\"factor\":2}"));
        var e = LoadFails();
        Assert.IsType<NotSupportedException>(e);
        Assert.Contains("rope_scaling type 'linear' is not supported for BaichuanForCausalLM", e.Message);
    }

    [Fact]
    public void HeadsThatDoNotDivideTheHiddenSizeAreNamedWhenHeadDimIsImplied()
    {
        CopyFixture("baichuan2-tiny-rope", c => c["num_attention_heads"] = 3); // no head_dim key: it would be 64 / 3
        Assert.Contains("hidden_size (64) must be a multiple of num_attention_heads (3)", LoadFails().Message);
    }

    [Fact]
    public void AnIntegerBeyondInt32IsOutOfRangeNotAnOverflow()
    {
        CopyFixture("stories260k", c => c["hidden_size"] = 1L << 40);
        var e = LoadFails();
        Assert.IsType<InvalidDataException>(e);
        Assert.Contains("'hidden_size' is out of range (got 1099511627776; at most 2147483647)", e.Message);
    }

    [Fact]
    public void MoreLayersInTheConfigThanInTheCheckpointFailBeforeAllocating()
    {
        // 2³¹−1 layers would exhaust memory if anything were sized by the count before the checkpoint was consulted.
        CopyFixture("baichuan2-tiny-rope", c => c["num_hidden_layers"] = int.MaxValue);
        var e = LoadFails();
        Assert.IsType<CheckpointException>(e);
        Assert.Contains($"num_hidden_layers {int.MaxValue}, but the checkpoint stores layers 0–1 only", e.Message);
    }

    [Fact]
    public void AnImplausibleMaxPositionsIsNamedNotAnOverflow()
    {
        CopyFixture("stories260k", c => c["max_position_embeddings"] = int.MaxValue);
        var e = LoadFails();
        Assert.IsType<ArgumentOutOfRangeException>(e);
        Assert.Contains("max_position_embeddings is implausible", e.Message);
    }

    [Fact]
    public void BaichuanPositionEncodingFollowsTheRealConfigs()
    {
        // Real Baichuan2-7B config: max_position_embeddings present → RoPE. Real 13B: only model_max_length → ALiBi.
        var seven = JsonNode.Parse("""{"architectures":["BaichuanForCausalLM"],"model_type":"baichuan","hidden_size":4096,"intermediate_size":11008,"num_attention_heads":32,"num_hidden_layers":32,"vocab_size":125696,"max_position_embeddings":4096,"model_max_length":4096,"rms_norm_eps":1e-6}""")!.AsObject();
        var thirteen = JsonNode.Parse("""{"architectures":["BaichuanForCausalLM"],"model_type":"baichuan","hidden_size":5120,"intermediate_size":13696,"num_attention_heads":40,"num_hidden_layers":40,"vocab_size":125696,"model_max_length":4096,"rms_norm_eps":1e-6}""")!.AsObject();
        Assert.Equal(PositionEncoding.Rope, ModelConfig.Parse(seven).PositionEncoding);
        var c13 = ModelConfig.Parse(thirteen);
        Assert.Equal(PositionEncoding.Alibi, c13.PositionEncoding);
        Assert.Equal(4096, c13.MaxPositions);
        Assert.True(c13.NormHead && c13.FusedQkv);
    }

    [Fact]
    public void AlibiSlopesMatchTheReferenceForNonPowerOfTwoHeads()
    {
        using var reference = Fixtures.Json("baichuan2-tiny-alibi", "reference.json");
        var expected = reference.RootElement.GetProperty("alibi_slopes").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(expected, Layers.AlibiBias.Slopes(expected.Length));
        var forty = Layers.AlibiBias.Slopes(40); // Baichuan2-13B: 32 slopes of 2^(-8/32·i), then 8 interleaved from the 64-head recipe
        Assert.Equal(MathF.Pow(2, -0.25f), forty[0], 6);
        Assert.Equal(MathF.Pow(2, -0.125f), forty[32], 6);
        Assert.Equal(MathF.Pow(2, -0.375f), forty[33], 6);
    }
}
