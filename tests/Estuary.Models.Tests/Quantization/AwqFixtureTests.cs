// The AutoAWQ GEMM fixture: packing order against the unpack test vectors, and the loaded model reproduces the reference logits.
using Estuary.Models.Config;
using Estuary.Models.Loading;
using Estuary.Models.Quantization;
using Estuary.Models.Tests.Architectures;
using Estuary.Testing;

namespace Estuary.Models.Tests.Quantization;

public class AwqFixtureTests
{
    private const string Model = "baichuan2-bible-256-awq-rtn";

    [Fact]
    public void UnpackingMatchesTheTestVectors()
    {
        using var doc = Fixtures.Json(Model, "reference.json");
        var v = doc.RootElement.GetProperty("unpack_test_vectors");
        var dir = Fixtures.Path(Model);
        var config = ModelConfig.Load(dir);
        using var reader = CheckpointIndex.Open(dir);
        var map = new WeightMap(reader, config);
        var module = map.Module(0, LinearRole.Qkv);
        Assert.Equal(v.GetProperty("tensor").GetString(), module);
        var w = QuantizedCheckpoint.LoadAwq(map, module, 768, 256, 128, 0, 768, module);
        var q = v.GetProperty("unpacked_q_rows_0_1_first16");
        var deq = v.GetProperty("dequantized_rows_0_1_first16");
        var zeros = Fixtures.Ints(v.GetProperty("unpacked_zeros_group_0_first16"));
        for (int r = 0; r < 2; r++)
        {
            var qr = Fixtures.Ints(q[r]);
            var dr = Fixtures.Floats(deq[r]);
            for (int c = 0; c < 16; c++)
            {
                // Row r of qweight is input feature r; column c is output feature c (row c of our [N, K] layout).
                Assert.Equal(qr[c], w.GetQ(c, r));
                Assert.Equal(dr[c], w.DequantizeElement(c, r)); // exact: (q - z)·s is exact in F32
            }
        }
        for (int c = 0; c < 16; c++) Assert.Equal(zeros[c], w.GetZero(c, 0));
    }

    [Fact]
    public void PackingRoundTripsAndFollowsAwqOrder()
    {
        // README worked example: 0x17739F7A holds columns [10, 3, 7, 7, 15, 7, 9, 1].
        Span<int> word = [0x17739F7A];
        Span<byte> values = stackalloc byte[8];
        AwqPacking.UnpackRow(word, values);
        Assert.Equal(new byte[] { 10, 3, 7, 7, 15, 7, 9, 1 }, values.ToArray());
        Span<int> packed = stackalloc int[1];
        AwqPacking.PackRow(values, packed);
        Assert.Equal(0x17739F7A, packed[0]);
        var rng = new Random(3);
        var many = new byte[64];
        for (int i = 0; i < many.Length; i++) many[i] = (byte)rng.Next(16);
        var words = new int[8];
        AwqPacking.PackRow(many, words);
        var back = new byte[64];
        AwqPacking.UnpackRow(words, back);
        Assert.Equal(many, back);
    }

    [Fact]
    public void LoadedModelReproducesReferenceLogitsAndGreedyArgmax() =>
        new ReferenceLogitsTests().TeacherForcedLogitsMatchReference(Model);

    [Fact]
    public void ChunkedPrefillGivesTheSameLogits() => new ReferenceLogitsTests().ChunkedPrefillGivesTheSameLogits(Model);

    [Fact]
    public void ResidentWeightsAreAboutAQuarterOfTheFloatModel()
    {
        using var quantized = new ModelHarness(Fixtures.Path(Model));
        using var dense = new ModelHarness(Fixtures.Path("baichuan2-bible-256"));
        long linears(CausalLm m) => m.Layers.Sum(l => l.Attention.QProj.WeightBytes + l.Attention.KProj.WeightBytes + l.Attention.VProj.WeightBytes
            + l.Attention.OProj.WeightBytes + l.Mlp.Gate.WeightBytes + l.Mlp.Up.WeightBytes + l.Mlp.Down.WeightBytes);
        Assert.All(quantized.Model.Layers, l => Assert.IsType<QuantizedLinear>(l.Mlp.Down));
        double ratio = linears(quantized.Model) / (double)linears(dense.Model);
        Assert.InRange(ratio, 0.25, 0.29); // 4 bits + a 4-byte scale and a 1-byte zero point per 128 weights, vs 16 bits
    }
}
