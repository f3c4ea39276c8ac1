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
    public void Phi3FusedModulesQuantizeWholeAndStayCloseToTheReference()
    {
        // Phi-3's qkv_proj and gate_up_proj are quantized as one module each (as AutoAWQ writes them) and split into q, k, v and
        // gate, up at load; AWQ scales gate_up's columns together and divides only its up rows by the down scales.
        const string model = "phi3-tiny";
        string src = QwenMistralReferenceTests.ModelDir(model);
        float loadTime = WorstLogitError(model, src, QuantizationMode.Int8);
        Assert.True(loadTime < 0.3f, $"load-time INT8 logits are {loadTime} from the reference");

        string int8Dir = Path.Combine(_dir, "phi3-int8");
        QuantizedCheckpointWriter.WriteInt8(src, int8Dir);
        using (var output = CheckpointIndex.Open(int8Dir))
        {
            Assert.Equal(DType.I8, output.GetInfo("model.layers.0.mlp.gate_up_proj.weight").DType);
            Assert.Equal(DType.I8, output.GetInfo("model.layers.1.self_attn.qkv_proj.weight").DType);
        }
        float int8 = WorstLogitError(model, int8Dir);
        Assert.True(int8 < 0.3f, $"INT8 checkpoint logits are {int8} from the reference");

        string awqDir = Path.Combine(_dir, "phi3-awq"), rtnDir = Path.Combine(_dir, "phi3-rtn");
        var rng = new Random(7);
        var windows = Enumerable.Range(0, 16).Select(_ => Enumerable.Range(0, 32).Select(_ => rng.Next(3, 96)).ToArray()).ToList();
        using (var backend = new Estuary.Backend.Cpu.CpuBackend())
        {
            using var floatModel = ModelLoader.Load(src, backend);
            var stats = AwqCalibrator.Collect(floatModel, windows, 256);
            QuantizedCheckpointWriter.WriteAwq(src, awqDir, new AwqOptions { GroupSize = 16 }, stats, backend);
            QuantizedCheckpointWriter.WriteAwq(src, rtnDir, new AwqOptions { GroupSize = 16, ScaleGrid = 1, SearchClip = false }, stats, backend);
        }

        using (var input = CheckpointIndex.Open(src))
        using (var output = CheckpointIndex.Open(awqDir))
        {
            Assert.True(output.Contains("model.layers.0.mlp.gate_up_proj.qweight"));
            Assert.True(output.Contains("model.layers.0.self_attn.qkv_proj.qweight"));
            Assert.False(output.Contains("model.layers.0.mlp.up_proj.qweight"));
            // Where the scales went, read back from the dequantized weights (least-squares ratios to the float ones, INT4 noise
            // averaged): gate_up's columns share one scale c_j; its gate rows carry nothing more, its up rows are divided by the
            // down scale d_i that down's column i was multiplied by, so (up row i's ratio) × d_i ≈ 1.
            var map = new WeightMap(output, Estuary.Models.Config.ModelConfig.Load(awqDir));
            var gateUp = Rows(QuantizedCheckpoint.LoadAwq(map, "model.layers.0.mlp.gate_up_proj", 96, 32, 16, 0, 96, "gate_up"), 96, 32);
            var down = Rows(QuantizedCheckpoint.LoadAwq(map, "model.layers.0.mlp.down_proj", 32, 48, 16, 0, 32, "down"), 32, 48);
            var gateUpFloat = input.Load("model.layers.0.mlp.gate_up_proj.weight");
            var downFloat = input.Load("model.layers.0.mlp.down_proj.weight");
            var columnScale = Enumerable.Range(0, 32).Select(j => Ratio(Enumerable.Range(0, 48).Select(r => (gateUp[r][j], gateUpFloat.GetFloat(r * 32L + j))))).ToArray();
            float farthest = 0;
            for (int i = 0; i < 48; i++)
            {
                float gateRow = Ratio(Enumerable.Range(0, 32).Select(j => (gateUp[i][j], gateUpFloat.GetFloat(i * 32L + j) * columnScale[j])));
                float upRow = Ratio(Enumerable.Range(0, 32).Select(j => (gateUp[48 + i][j], gateUpFloat.GetFloat((48 + i) * 32L + j) * columnScale[j])));
                float downColumn = Ratio(Enumerable.Range(0, 32).Select(r => (down[r][i], downFloat.GetFloat(r * 48L + i))));
                farthest = Math.Max(farthest, MathF.Abs(downColumn - 1));
                Assert.True(MathF.Abs(gateRow - 1) < 0.05f, $"gate row {i} was scaled by {gateRow}");
                Assert.True(MathF.Abs(upRow * downColumn - 1) < 0.05f, $"up row {i} was scaled by {upRow}, down's column by {downColumn}");
            }
            Assert.True(farthest > 0.1f, $"the down scales are all within {farthest} of 1: the check above would not see them misplaced");
        }
        // INT4 in groups of 16 on this random model: round-to-nearest is 0.61 from the reference, AWQ's searched scales 0.55.
        float awq = WorstLogitError(model, awqDir), rtn = WorstLogitError(model, rtnDir);
        Assert.True(awq < rtn && awq < 0.6f, $"AWQ logits are {awq} from the reference (round-to-nearest: {rtn})");
    }

    private static float[][] Rows(Estuary.Tensors.Quantization.QuantizedWeight w, int n, int k) =>
        [.. Enumerable.Range(0, n).Select(r => { var row = new float[k]; w.DequantizeRow(r, row); return row; })];

    // The least-squares factor a with measured ≈ a · expected.
    private static float Ratio(IEnumerable<(float Measured, float Expected)> pairs)
    {
        double num = 0, den = 0;
        foreach (var (m, e) in pairs) { num += (double)m * e; den += (double)e * e; }
        return (float)(num / den);
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
