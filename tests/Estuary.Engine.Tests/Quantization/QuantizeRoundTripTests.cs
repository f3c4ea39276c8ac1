// quantize → write → load → perplexity on the trained fixture: INT8 within +1% of float, AWQ INT4 within +5% and below RTN INT4;
// and the written AWQ checkpoint has AutoAWQ's GEMM layout and config.
using System.Text.Json.Nodes;
using Estuary.Backend.Cpu;
using Estuary.Engine.Evaluation;
using Estuary.Models;
using Estuary.Models.Loading;
using Estuary.Models.Quantization;
using Estuary.Tensors;
using Estuary.Testing;
using Estuary.Tokenization;

namespace Estuary.Engine.Tests.Quantization;

public sealed class QuantizeRoundTripTests : IDisposable
{
    private const string Model = "baichuan2-bible-256";
    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-quant-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (double Float32, double Rtn4, int[] Ids) Reference()
    {
        using var reference = Fixtures.Json(Model, "reference.json");
        var results = reference.RootElement.GetProperty("perplexity").GetProperty("results");
        var ids = TextTokenizer.Load(Fixtures.Path(Model)).Encode(File.ReadAllText(Fixtures.Path(Model, "heldout.txt")), addSpecialTokens: false);
        return (results.GetProperty("float32").GetProperty("perplexity").GetDouble(),
            results.GetProperty("int4_rtn_g128_zero_point").GetProperty("perplexity").GetDouble(), ids);
    }

    private static double Perplexity(string dir, int[] ids, bool quantizedHead = false)
    {
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(dir, backend);
        Assert.IsType<QuantizedLinear>(model.Layers[^1].Mlp.Down);
        Assert.Equal(quantizedHead, model.Head.Linear is QuantizedLinear);
        Assert.True(model.Head.NormalizesRows); // Baichuan2's NormHead, quantized or not
        return PerplexityEvaluator.Evaluate(model, ids, 256).Perplexity;
    }

    [Fact]
    public void Int8CheckpointLoadsWithinOnePercent()
    {
        var (float32, _, ids) = Reference();
        var outDir = Path.Combine(_dir, "int8");
        QuantizedCheckpointWriter.WriteInt8(Fixtures.Path(Model), outDir);
        using (var reader = CheckpointIndex.Open(outDir))
        {
            Assert.Equal(DType.I8, reader.GetInfo("model.layers.0.self_attn.W_pack.weight").DType);
            Assert.Equal(DType.F16, reader.GetInfo("model.layers.0.self_attn.W_pack.weight_scale").DType);
            Assert.Equal(DType.I8, reader.GetInfo("lm_head.weight").DType);
            Assert.Equal(DType.F16, reader.GetInfo("lm_head.weight_scale").DType);
            Assert.Equal(DType.BF16, reader.GetInfo("model.embed_tokens.weight").DType);
        }
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "config.json")))!["quantization_config"]!;
        Assert.Empty(config["modules_to_not_convert"]!.AsArray());
        Assert.InRange(Perplexity(outDir, ids, quantizedHead: true), float32 * 0.99, float32 * 1.01);
    }

    [Fact]
    public void Int8CheckpointCanKeepTheHeadInItsFloatDtype()
    {
        var (float32, _, ids) = Reference();
        var outDir = Path.Combine(_dir, "int8-keep-head");
        QuantizedCheckpointWriter.WriteInt8(Fixtures.Path(Model), outDir, keepHead: true);
        using (var reader = CheckpointIndex.Open(outDir))
        {
            Assert.Equal(DType.I8, reader.GetInfo("model.layers.0.self_attn.W_pack.weight").DType);
            Assert.Equal(DType.BF16, reader.GetInfo("lm_head.weight").DType);
            Assert.False(reader.Contains("lm_head.weight_scale"));
        }
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "config.json")))!["quantization_config"]!;
        Assert.Equal("lm_head", (string?)config["modules_to_not_convert"]![0]);
        Assert.InRange(Perplexity(outDir, ids), float32 * 0.99, float32 * 1.01);
    }

    [Fact]
    public void AwqCheckpointBeatsRtnAndHasTheGemmLayout()
    {
        var (float32, rtn4, ids) = Reference();
        var src = Fixtures.Path(Model);
        var calibText = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "calibration.txt"));
        var calib = TextTokenizer.Load(src).Encode(calibText, addSpecialTokens: false);
        var windows = Enumerable.Range(0, 32).Select(i => calib[(i * 256)..((i + 1) * 256)]).ToList();
        var outDir = Path.Combine(_dir, "awq");
        using (var backend = new CpuBackend())
        {
            using var model = ModelLoader.Load(src, backend);
            var stats = AwqCalibrator.Collect(model, windows, 256);
            QuantizedCheckpointWriter.WriteAwq(src, outDir, new AwqOptions(), stats, backend);
        }
        var q = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "config.json")))!["quantization_config"]!;
        Assert.Equal("awq", q["quant_method"]!.GetValue<string>());
        Assert.Equal("gemm", q["version"]!.GetValue<string>());
        Assert.Equal(128, q["group_size"]!.GetValue<int>());
        using (var reader = CheckpointIndex.Open(outDir))
        {
            Assert.Equal(new TensorInfo("model.layers.0.mlp.down_proj.qweight", DType.I32, new Shape(768, 32)), reader.GetInfo("model.layers.0.mlp.down_proj.qweight"));
            Assert.Equal(new TensorInfo("model.layers.0.mlp.down_proj.scales", DType.F16, new Shape(6, 256)), reader.GetInfo("model.layers.0.mlp.down_proj.scales"));
            Assert.False(reader.Contains("model.layers.0.mlp.down_proj.weight"));
        }
        double ppl = Perplexity(outDir, ids);
        Assert.True(ppl < rtn4, $"AWQ perplexity {ppl} is not below RTN INT4 {rtn4}");
        Assert.InRange(ppl, float32 * 0.99, float32 * 1.05);
    }
}
