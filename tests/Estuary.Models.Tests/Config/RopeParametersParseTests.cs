// transformers v5's rope_parameters (rope_type, rope_theta and the scaling keys in one object) reads as rope_scaling and
// rope_theta do; both forms at once must agree, and an unsupported type is refused there too (a theta or scaling silently
// ignored would rotate every position wrongly).
using System.Text.Json.Nodes;
using Estuary.Models.Config;

namespace Estuary.Models.Tests.Config;

public class RopeParametersParseTests
{
    private const string Source = "/models/x/config.json";

    private static ModelConfig Parse(string extraKeys) => ModelConfig.Parse(JsonNode.Parse($$"""
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
         "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100, "max_position_embeddings": 4096 {{extraKeys}}}
        """)!.AsObject(), Source);

    private const string Llama3 = """
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192
        """;

    [Fact]
    public void RopeParametersGiveTheScalingAndTheTheta()
    {
        var config = Parse($$""", "rope_parameters": {"rope_theta": 500000.0, {{Llama3}}}""");
        Assert.Equal(500000.0, config.RopeTheta);
        Assert.Equal(RopeScaling.Llama3(8, 1, 4, 8192), config.RopeScaling);
        var legacy = Parse($$""", "rope_theta": 500000.0, "rope_scaling": {{{Llama3}}}""");
        Assert.Equal(legacy.RopeTheta, config.RopeTheta);
        Assert.Equal(legacy.RopeScaling, config.RopeScaling);
    }

    [Fact]
    public void DefaultRopeParametersCarryOnlyTheTheta()
    {
        var config = Parse(""", "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0}""");
        Assert.Equal(1000000.0, config.RopeTheta);
        Assert.Same(RopeScaling.None, config.RopeScaling);
        Assert.Equal(250000.0, Parse(""", "rope_parameters": {"rope_theta": 250000.0}""").RopeTheta);
    }

    [Fact]
    public void BothFormsMayBeGivenWhenTheyAgree()
    {
        var config = Parse($$""", "rope_theta": 500000.0, "rope_scaling": {{{Llama3}}}, "rope_parameters": {"rope_theta": 500000.0, {{Llama3}}}""");
        Assert.Equal(RopeScaling.Llama3(8, 1, 4, 8192), config.RopeScaling);
    }

    [Theory]
    [InlineData(""", "rope_theta": 10000.0, "rope_parameters": {"rope_type": "default", "rope_theta": 500000.0}""", "disagree")]
    [InlineData(""", "rope_scaling": {"rope_type": "linear", "factor": 2.0}, "rope_parameters": {"rope_type": "linear", "factor": 4.0}""", "different RoPE scalings")]
    [InlineData(""", "rope_parameters": 5""", "rope_parameters must be an object")]
    [InlineData(""", "rope_parameters": {"rope_type": "llama3", "factor": 8.0}""", "low_freq_factor")]
    public void ConflictsAndBadValuesAreRefused(string keys, string message)
    {
        var e = Assert.ThrowsAny<Exception>(() => Parse(keys));
        Assert.True(e is InvalidDataException, e.GetType().Name + ": " + e.Message);
        Assert.Contains(message, e.Message);
        Assert.Contains(Source, e.Message);
    }

    [Fact]
    public void PerLayerTypeRopeParametersAreRefused()
    {
        var e = Assert.Throws<NotSupportedException>(() => Parse(
            """, "rope_parameters": {"full_attention": {"rope_type": "default", "rope_theta": 1000000.0}, "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}"""));
        Assert.Contains("per-layer-type", e.Message);
        Assert.Contains(Source, e.Message);
    }

    [Fact]
    public void AnUnsupportedTypeInRopeParametersIsRefusedByName()
    {
        var e = Assert.Throws<NotSupportedException>(() => Parse(""", "rope_parameters": {"rope_type": "yarn", "factor": 4.0, "rope_theta": 10000.0}"""));
        Assert.Contains("yarn", e.Message);
        Assert.Contains("rope_parameters", e.Message);
    }
}
