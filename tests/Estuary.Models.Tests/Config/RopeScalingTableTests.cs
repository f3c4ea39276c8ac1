// RoPE scaling seen through the cos/sin table: linear scaling by f rotates position p as the unscaled table rotates p/f; llama3 with
// factor 1 changes no frequency; the serving cap changes the row count only; the defaults equal the unscaled constructor.
using Estuary.Models.Config;
using Estuary.Models.Layers;
using Estuary.Tensors;

namespace Estuary.Models.Tests.Config;

public class RopeScalingTableTests
{
    private static RopeTable Table(RopeScaling scaling, int headDim, int positions, double theta) =>
        new(positions, scaling.ScaleInverseFrequencies(RopeTable.DefaultInverseFrequencies(headDim, theta)));

    [Theory]
    [InlineData(2.0, true)]   // dividing by a power of two is exact: the rows are the same floats
    [InlineData(4.0, true)]
    [InlineData(2.5, false)]  // θ_j / 2.5 is rounded once: the angle q·θ_j may move by q·θ_j·2⁻²⁴
    public void LinearScalingRotatesPositionPAsTheUnscaledTableRotatesPOverTheFactor(double factor, bool exact)
    {
        const int d = 64, positions = 2048;
        var unscaled = new RopeTable(d, positions, 10000);
        var scaled = Table(RopeScaling.Linear(factor), d, positions, 10000);
        int half = d / 2, checkedRows = 0;
        for (int p = 0; p < positions; p++)
        {
            double q = p / factor;
            if (q != Math.Floor(q)) continue; // only positions that land on an unscaled row
            for (int j = 0; j < half; j++)
            {
                float tolerance = exact ? 0 : 1e-7f + (float)(q * unscaled.InverseFrequencies[j] * 6e-8);
                Assert.Equal(unscaled.Cos[(int)q * half + j], scaled.Cos[p * half + j], tolerance);
                Assert.Equal(unscaled.Sin[(int)q * half + j], scaled.Sin[p * half + j], tolerance);
            }
            checkedRows++;
        }
        Assert.True(checkedRows >= positions / 5); // every 5th position at least (factor 2.5)
        for (int j = 0; j < half; j++) Assert.Equal(unscaled.InverseFrequencies[j] / (float)factor, scaled.InverseFrequencies[j]);
    }

    [Theory]
    [InlineData(128, 500000.0, 8192)]
    [InlineData(64, 500000.0, 8192)]
    [InlineData(8, 10000.0, 1024)] // stories260k's head dim with an original length that puts one frequency in each band
    public void Llama3WithFactorOneLeavesEveryFrequencyAsItWas(int headDim, double theta, int original)
    {
        var plain = RopeTable.DefaultInverseFrequencies(headDim, theta);
        var scaled = RopeScaling.Llama3(1, 1, 4, original).ScaleInverseFrequencies(plain);
        // Divided by 1 in the low band and kept in the high band: exactly equal. The blend (1 − s)·θ + s·θ is rounded twice in
        // float32, as transformers rounds it, so it may land one ulp away.
        for (int j = 0; j < plain.Length; j++)
            Assert.True(Math.Abs(BitConverter.SingleToInt32Bits(scaled[j]) - BitConverter.SingleToInt32Bits(plain[j])) <= 1, $"frequency {j}");
        Assert.Equal(plain, RopeScaling.Linear(1).ScaleInverseFrequencies(plain));
        Assert.Equal(plain, RopeScaling.None.ScaleInverseFrequencies(plain));
    }

    [Fact]
    public void TheDefaultTableIsTheUnscaledConstructorsAndTheCapOnlyDropsRows()
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse("""
            {"architectures": ["LlamaForCausalLM"], "hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 1,
             "num_attention_heads": 4, "vocab_size": 100, "max_position_embeddings": 4096, "rope_theta": 500000.0,
             "rope_scaling": {"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 512}}
            """)!.AsObject();
        var config = ModelConfig.Parse(json);
        var full = RotaryEmbedding.BuildTable(config);
        var capped = RotaryEmbedding.BuildTable(config with { MaxPositions = 100 });
        Assert.Equal(4096, full.MaxPositions);
        Assert.Equal(100, capped.MaxPositions);
        Assert.Equal(full.InverseFrequencies.ToArray(), capped.InverseFrequencies.ToArray());
        Assert.Equal(full.Cos.AsSpan(0, capped.Cos.Length).ToArray(), capped.Cos);
        Assert.NotEqual(RopeTable.DefaultInverseFrequencies(64, 500000), full.InverseFrequencies.ToArray());

        var unscaled = RotaryEmbedding.BuildTable(config with { RopeScaling = RopeScaling.None });
        var direct = new RopeTable(64, 4096, 500000);
        Assert.Equal(direct.InverseFrequencies.ToArray(), unscaled.InverseFrequencies.ToArray());
        Assert.Equal(direct.Cos, unscaled.Cos);
        Assert.Equal(direct.Sin, unscaled.Sin);
    }

    [Fact]
    public void FrequenciesThatAreNotPositiveAndFiniteAreRefused()
    {
        Assert.Throws<ArgumentException>(() => new RopeTable(16, ReadOnlySpan<float>.Empty));
        Assert.Contains("inverse frequency 1", Assert.Throws<ArgumentException>(() => new RopeTable(16, [1f, float.NaN])).Message);
        Assert.Contains("inverse frequency 0", Assert.Throws<ArgumentException>(() => new RopeTable(16, [0f])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RopeTable(0, [1f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => RopeTable.DefaultInverseFrequencies(7, 10000));
    }
}
