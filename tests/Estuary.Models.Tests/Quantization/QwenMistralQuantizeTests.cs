// Quantization of the biased / q-k-normed tiny models: biases stay float through --quantization int8, `quantize --method int8` and
// AWQ (which divides v's bias by the o scales it folds into v's rows), and each quantized model stays close to the float64 reference.
using Estuary.Models.Loading;
using Estuary.Models.Quantization;
using Estuary.Models.Tests.Architectures;
using Estuary.Tensors;

namespace Estuary.Models.Tests.Quantization;

public sealed class QwenMistralQuantizeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-qwen-quant-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Largest |logit − reference| over every position of the model's first reference case.
    private static float WorstLogitError(string model, string dir, QuantizationMode mode = QuantizationMode.None)
    {
        using var reference = QwenMistralReferenceTests.Reference(model);
        var c = reference.RootElement.GetProperty("cases")[0];
        int[] all = [.. ReferenceLogitsTests.Ints(c.GetProperty("prompt_ids")), .. ReferenceLogitsTests.Ints(c.GetProperty("generated_ids"))];
        var expected = c.GetProperty("logits_all_positions").EnumerateArray().Select(ReferenceLogitsTests.Floats).ToArray();
        using var harness = new ModelHarness(dir, quantization: mode);
        var logits = harness.AllLogits(all);
        float worst = 0;
        for (int p = 0; p < all.Length; p++)
            for (int v = 0; v < expected[p].Length; v++) worst = Math.Max(worst, MathF.Abs(expected[p][v] - logits[p][v]));
        return worst;
    }

    [Theory]
    [InlineData("qwen2-tiny")]
    [InlineData("qwen3-tiny-bias")]
    [InlineData("llama-tiny-bias")]
    public void LoadTimeInt8KeepsEveryBiasInFloat(string model)
    {
        string dir = QwenMistralReferenceTests.ModelDir(model);
        using (var harness = new ModelHarness(dir, quantization: QuantizationMode.Int8))
        {
            foreach (var layer in harness.Model.Layers)
            {
                var q = Assert.IsType<QuantizedLinear>(layer.Attention.QProj);
                Assert.NotNull(q.Bias);
                Assert.True(q.Bias.DType is DType.F32 or DType.BF16);
            }
        }
        float error = WorstLogitError(model, dir, QuantizationMode.Int8);
        Assert.True(error < 0.3f, $"{model}: INT8 logits are {error} from the reference");
    }

    [Theory]
    [InlineData("qwen2-tiny")]
    [InlineData("qwen3-tiny-bias")]
    public void Int8CheckpointCopiesBiasesAndQkNormsAsStored(string model)
    {
        string src = QwenMistralReferenceTests.ModelDir(model), outDir = Path.Combine(_dir, model + "-int8");
        QuantizedCheckpointWriter.WriteInt8(src, outDir);
        using (var input = CheckpointIndex.Open(src))
        using (var output = CheckpointIndex.Open(outDir))
        {
            Assert.Equal(DType.I8, output.GetInfo("model.layers.0.self_attn.q_proj.weight").DType);
            foreach (var name in input.Names.Where(n => n.EndsWith(".bias", StringComparison.Ordinal) || n.Contains("_norm.", StringComparison.Ordinal)))
            {
                Assert.Equal(input.GetInfo(name).DType, output.GetInfo(name).DType);
                var a = input.Load(name);
                var b = output.Load(name);
                for (long i = 0; i < a.Shape.NumElements; i++) Assert.Equal(a.GetFloat(i), b.GetFloat(i));
            }
        }
        float error = WorstLogitError(model, outDir);
        Assert.True(error < 0.3f, $"{model}: INT8 checkpoint logits are {error} from the reference");
    }

    [Fact]
    public void AwqScalesVsBiasWithItsRowsAndStaysCloseToTheReference()
    {
        // llama-tiny-bias is multi-head (o's input width = v's output width), so AWQ folds o's input scales into v's rows: v's bias
        // must be divided by them too, or every attention output would be off by the scale.
        const string model = "llama-tiny-bias";
        string src = QwenMistralReferenceTests.ModelDir(model), outDir = Path.Combine(_dir, "awq");
        var rng = new Random(5);
        var windows = Enumerable.Range(0, 16).Select(_ => Enumerable.Range(0, 32).Select(_ => rng.Next(3, 96)).ToArray()).ToList();
        using (var backend = new Estuary.Backend.Cpu.CpuBackend())
        {
            using var floatModel = ModelLoader.Load(src, backend);
            var stats = AwqCalibrator.Collect(floatModel, windows, 256);
            QuantizedCheckpointWriter.WriteAwq(src, outDir, new AwqOptions { GroupSize = 16 }, stats, backend);
        }
        using (var input = CheckpointIndex.Open(src))
        using (var output = CheckpointIndex.Open(outDir))
        {
            Assert.True(output.Contains("model.layers.0.self_attn.v_proj.qweight"));
            var original = input.Load("model.layers.0.self_attn.v_proj.bias");
            var written = output.Load("model.layers.0.self_attn.v_proj.bias");
            Assert.Equal(DType.F16, written.DType);
            bool scaled = false;
            for (long i = 0; i < original.Shape.NumElements; i++) scaled |= MathF.Abs(original.GetFloat(i) - written.GetFloat(i)) > 1e-2f * MathF.Abs(original.GetFloat(i)) + 1e-3f;
            Assert.True(scaled, "v's bias was written unscaled");
            // The scale each v bias element was divided by is the one o's column was multiplied by: o's dequantized column j over the
            // float column j (a least-squares ratio over its 32 rows, INT4 noise averaged) is that s_j, within a few percent.
            var config = Estuary.Models.Config.ModelConfig.Load(outDir);
            var oq = QuantizedCheckpoint.LoadAwq(new WeightMap(output, config), "model.layers.0.self_attn.o_proj", 32, 32, 16, 0, 32, "o");
            var oFloat = input.Load("model.layers.0.self_attn.o_proj.weight");
            var deq = new float[32 * 32];
            var flt = new float[32 * 32];
            for (int r = 0; r < 32; r++)
            {
                oq.DequantizeRow(r, deq.AsSpan(r * 32, 32));
                oFloat.ReadRow(r, flt.AsSpan(r * 32, 32));
            }
            float farthestFromOne = 0;
            for (int j = 0; j < 32; j++)
            {
                double num = 0, den = 0;
                for (int r = 0; r < 32; r++) { num += (double)deq[r * 32 + j] * flt[r * 32 + j]; den += (double)flt[r * 32 + j] * flt[r * 32 + j]; }
                float oScale = (float)(num / den), biasScale = original.GetFloat(j) / written.GetFloat(j);
                farthestFromOne = Math.Max(farthestFromOne, MathF.Abs(oScale - 1));
                Assert.True(MathF.Abs(oScale / biasScale - 1) < 0.05f, $"column {j}: o was scaled by {oScale}, v's bias divided by {biasScale}");
            }
            Assert.True(farthestFromOne > 0.1f, $"the o scales are all within {farthestFromOne} of 1: the check above would not see a missing division");
            var qBias = output.Load("model.layers.0.self_attn.q_proj.bias"); // untouched by the scales, only rounded to F16
            var qOriginal = input.Load("model.layers.0.self_attn.q_proj.bias");
            for (long i = 0; i < qBias.Shape.NumElements; i++) Assert.Equal((float)(Half)qOriginal.GetFloat(i), qBias.GetFloat(i));
        }
        float error = WorstLogitError(model, outDir);
        Assert.True(error < 0.5f, $"AWQ logits are {error} from the reference");
    }
}
