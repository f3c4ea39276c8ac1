// RoPE scaling against numbers computed outside Estuary: scripts/rope-scaling-references.py (standard-library Python, written from
// transformers' _compute_default_rope_parameters and _compute_llama3_parameters, float32 steps emulated) printed the literals below.
// A wrong C# formula (blend, band boundaries, factor) fails here; the tolerance is one float32 ulp of each inverse frequency (see
// the script's docstring for where transformers may differ by that much), and for cos/sin the angle that ulp moves at position p.
using System.Text.Json.Nodes;
using Estuary.Models.Config;
using Estuary.Models.Layers;
using Estuary.Tensors;

namespace Estuary.Models.Tests.Config;

public class RopeScalingReferenceTests
{
    // The published config.json of meta-llama/Llama-3.1-8B and meta-llama/Llama-3.2-1B.
    private const string Llama31Config = """
        {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 128000,
         "eos_token_id": 128001, "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
         "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32,
         "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
         "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"},
         "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "transformers_version": "4.43.0.dev0",
         "use_cache": true, "vocab_size": 128256}
        """;

    private const string Llama32Config = """
        {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0, "bos_token_id": 128000,
         "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02,
         "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama", "num_attention_heads": 32,
         "num_hidden_layers": 16, "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
         "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"},
         "rope_theta": 500000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "transformers_version": "4.45.0.dev0",
         "use_cache": true, "vocab_size": 128256}
        """;

    public static TheoryData<string> Models => new() { "Llama31", "Llama32" };

    [Theory]
    [MemberData(nameof(Models))]
    public void TheTableOfThePublishedConfigHasTheReferenceFrequenciesAndRotations(string model)
    {
        var (json, expected, rotations) = Reference(model);
        var config = ModelConfig.Parse(JsonNode.Parse(json)!.AsObject());
        Assert.Equal(RopeScalingType.Llama3, config.RopeScaling.Type);
        Assert.Equal(131072, config.MaxPositions);
        // Only the rows up to the largest checked position: the frequencies do not depend on the row count.
        var table = RotaryEmbedding.BuildTable(config with { MaxPositions = 100_001 });
        Assert.Equal(2 * expected.Length, table.HeadDim);
        AssertWithinOneUlp(expected, table.InverseFrequencies);

        int half = table.HeadDim / 2;
        foreach (var (j, p, cos, sin) in rotations)
        {
            // One ulp of θ_j moves the angle at position p by p·θ_j·2⁻²³; float rounding of cos/sin adds ~6e-8.
            float tolerance = 1e-6f + p * expected[j] * 1.2e-7f;
            Assert.True(MathF.Abs(table.Cos[p * half + j] - cos) <= tolerance, $"{model} cos j={j} p={p}: {table.Cos[p * half + j]} vs {cos}");
            Assert.True(MathF.Abs(table.Sin[p * half + j] - sin) <= tolerance, $"{model} sin j={j} p={p}: {table.Sin[p * half + j]} vs {sin}");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void TheScalingAloneGivesTheReferenceFrequencies(string model)
    {
        var (_, expected, _) = Reference(model);
        var scaling = model == "Llama31" ? RopeScaling.Llama3(8, 1, 4, 8192) : RopeScaling.Llama3(32, 1, 4, 8192);
        var scaled = scaling.ScaleInverseFrequencies(RopeTable.DefaultInverseFrequencies(2 * expected.Length, 500000));
        AssertWithinOneUlp(expected, scaled);
    }

    [Fact]
    public void WavelengthsExactlyOnABandBoundaryGetTheSameValueFromEitherSide()
    {
        // θ = 2π/2048 and 2π/8192 (float32) have wavelengths exactly λ_high and λ_low of factor 8, low 1, high 4, original 8192.
        // transformers blends both ends (s = 1 and s = 0), which equals the neighbouring bands' rule: kept, and divided by 8.
        float twoPi = (float)(2 * Math.PI);
        float atHigh = twoPi / 2048, atLow = twoPi / 8192;
        Assert.Equal(2048f, twoPi / atHigh);
        Assert.Equal(8192f, twoPi / atLow);
        var scaled = RopeScaling.Llama3(8, 1, 4, 8192).ScaleInverseFrequencies([atHigh, atLow]);
        Assert.Equal(atHigh, scaled[0]);
        Assert.Equal(atLow / 8, scaled[1]);
    }

    private static void AssertWithinOneUlp(float[] expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int j = 0; j < expected.Length; j++)
        {
            int ulps = Math.Abs(BitConverter.SingleToInt32Bits(actual[j]) - BitConverter.SingleToInt32Bits(expected[j]));
            Assert.True(ulps <= 1, $"inverse frequency {j}: {actual[j]:R} vs reference {expected[j]:R} ({ulps} ulps apart)");
        }
    }

    private static (string Json, float[] InvFreq, (int J, int P, float Cos, float Sin)[] Rotations) Reference(string model) => model switch
    {
        "Llama31" => (Llama31Config, s_Llama31InvFreq, s_Llama31Rotations),
        _ => (Llama32Config, s_Llama32InvFreq, s_Llama32Rotations),
    };

    // ---- Printed by `python3 scripts/rope-scaling-references.py` (unedited). ----

    // Llama31: theta 500000, head dim 128, factor 8, low 1, high 4, original 8192; bands by frequency index: 29 high (kept), 6 medium (blended), 29 low (/factor)
    // medium band: indices [29, 30, 31, 32, 33, 34]
    private static readonly float[] s_Llama31InvFreq =
    [
        1f, 0.814617217f, 0.66360122f, 0.540580988f, 0.440366596f, 0.358730227f,
        0.292227834f, 0.238053814f, 0.193922743f, 0.157972813f, 0.128687367f, 0.10483095f,
        0.0853971019f, 0.0695659518f, 0.0566696227f, 0.0461640507f, 0.0376060307f, 0.0306345206f,
        0.0249554086f, 0.0203291066f, 0.0165604409f, 0.0134904198f, 0.0109895281f, 0.00895225909f,
        0.00729266461f, 0.00594073022f, 0.00483942125f, 0.00394227589f, 0.00321144611f, 0.00216657086f,
        0.00137189368f, 0.00085675146f, 0.00052484608f, 0.000312693737f, 0.000178507791f, 9.55621217e-05f,
        7.78465546e-05f, 6.34151438e-05f, 5.16590699e-05f, 4.20823671e-05f, 3.42810235e-05f, 2.79259111e-05f,
        2.2748929e-05f, 1.85316694e-05f, 1.50962169e-05f, 1.22976389e-05f, 1.00178686e-05f, 8.16072861e-06f,
        6.64786967e-06f, 5.41546933e-06f, 4.41153452e-06f, 3.59371211e-06f, 2.92749996e-06f, 2.38479174e-06f,
        1.94269251e-06f, 1.58255079e-06f, 1.28917316e-06f, 1.05018273e-06f, 8.55496921e-07f, 6.96902532e-07f,
        5.6770881e-07f, 4.6246538e-07f, 3.7673226e-07f, 3.06892588e-07f,
    ];

    // (frequency index, position, cos, sin) for Llama31; indices [0, 20, 29, 31, 34, 40, 63] span the bands.
    private static readonly (int J, int P, float Cos, float Sin)[] s_Llama31Rotations =
    [
        (0, 1, 0.540302277f, 0.841470957f), // high
        (0, 1000, 0.562379062f, 0.826879561f), // high
        (0, 100000, -0.9993608f, 0.0357487984f), // high
        (20, 1, 0.99986285f, 0.0165596846f), // high
        (20, 1000, -0.658119738f, -0.752913296f), // high
        (20, 100000, -0.9111377f, -0.412101984f), // high
        (29, 1, 0.999997675f, 0.00216656923f), // medium
        (29, 1000, -0.561150014f, 0.827714145f), // medium
        (29, 100000, -0.993644059f, 0.112567723f), // medium
        (31, 1, 0.999999642f, 0.000856751343f), // medium
        (31, 1000, 0.654895902f, 0.755719125f), // medium
        (31, 100000, -0.658370674f, -0.752693892f), // medium
        (34, 1, 1f, 0.000178507791f), // medium
        (34, 1000, 0.984109759f, 0.177561268f), // medium
        (34, 100000, 0.541331172f, -0.840809464f), // medium
        (40, 1, 1f, 3.42810235e-05f), // low
        (40, 1000, 0.999412477f, 0.0342743099f), // low
        (40, 100000, -0.959236085f, -0.282605946f), // low
        (63, 1, 1f, 3.06892588e-07f), // low
        (63, 1000, 0.99999994f, 0.000306892587f), // low
        (63, 100000, 0.999529123f, 0.0306844413f), // low
    ];

    // Llama32: theta 500000, head dim 64, factor 32, low 1, high 4, original 8192; bands by frequency index: 15 high (kept), 3 medium (blended), 14 low (/factor)
    // medium band: indices [15, 16, 17]
    private static readonly float[] s_Llama32InvFreq =
    [
        1f, 0.66360122f, 0.440366596f, 0.292227834f, 0.193922743f, 0.128687367f,
        0.0853971019f, 0.0566696227f, 0.0376060307f, 0.0249554086f, 0.0165604409f, 0.0109895281f,
        0.00729266461f, 0.00483942125f, 0.00321144611f, 0.00129054801f, 0.000429556734f, 9.70828623e-05f,
        1.94616387e-05f, 1.29147675e-05f, 8.57025589e-06f, 5.68723226e-06f, 3.77405422e-06f, 2.50446715e-06f,
        1.66196742e-06f, 1.10288363e-06f, 7.31874991e-07f, 4.85673127e-07f, 3.22293289e-07f, 2.1387423e-07f,
        1.41927202e-07f, 9.41830649e-08f,
    ];

    // (frequency index, position, cos, sin) for Llama32; indices [0, 14, 15, 16, 17, 18, 31] span the bands.
    private static readonly (int J, int P, float Cos, float Sin)[] s_Llama32Rotations =
    [
        (0, 1, 0.540302277f, 0.841470957f), // high
        (0, 1000, 0.562379062f, 0.826879561f), // high
        (0, 100000, -0.9993608f, 0.0357487984f), // high
        (14, 1, 0.999994814f, 0.00321144052f), // high
        (14, 1000, -0.997561216f, -0.0697966591f), // high
        (14, 100000, 0.763448894f, 0.645868242f), // high
        (15, 1, 0.999999166f, 0.00129054766f), // medium
        (15, 1000, 0.276594281f, 0.960986793f), // medium
        (15, 100000, -0.969035447f, -0.246921673f), // medium
        (16, 1, 0.999999881f, 0.000429556734f), // medium
        (16, 1000, 0.909150422f, 0.416467845f), // medium
        (16, 100000, 0.517710388f, -0.855555952f), // medium
        (17, 1, 1f, 9.70828623e-05f), // medium
        (17, 1000, 0.995291173f, 0.0969304293f), // medium
        (17, 100000, -0.960079968f, -0.279725581f), // medium
        (18, 1, 1f, 1.94616387e-05f), // low
        (18, 1000, 0.999810636f, 0.0194604099f), // low
        (18, 100000, -0.366614491f, 0.930372953f), // low
        (31, 1, 1f, 9.41830649e-08f), // low
        (31, 1000, 1f, 9.41830658e-05f), // low
        (31, 100000, 0.999955654f, 0.00941816717f), // low
    ];
}
