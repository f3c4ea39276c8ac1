// rope_scaling in config.json: each accepted type (and the legacy "type" key) parses to its RopeScaling; every refusal names the
// problem, the key and the file; Baichuan refuses scaling; the factories keep the same invariant; ToJson reads back the same.
using System.Text.Json.Nodes;
using Estuary.Models.Config;

namespace Estuary.Models.Tests.Config;

public class RopeScalingParseTests
{
    private const string Source = "/models/x/config.json";

    // A small Llama config with the given rope_scaling value (JSON text, or null to leave the key out).
    private static ModelConfig Parse(string? ropeScaling, string architecture = "LlamaForCausalLM")
    {
        var json = JsonNode.Parse($$"""
            {"architectures": ["{{architecture}}"], "model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
             "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100, "max_position_embeddings": 4096}
            """)!.AsObject();
        if (ropeScaling != null) json["rope_scaling"] = JsonNode.Parse(ropeScaling);
        return ModelConfig.Parse(json, Source);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("null")]
    [InlineData("""{"rope_type": "default"}""")]
    [InlineData("""{"type": "default"}""")]
    public void AbsentNullAndDefaultMeanNoScaling(string? value) => Assert.Same(RopeScaling.None, Parse(value).RopeScaling);

    [Theory]
    [InlineData("""{"rope_type": "linear", "factor": 2.0}""")]
    [InlineData("""{"type": "linear", "factor": 2}""")]
    [InlineData("""{"type": "linear", "rope_type": "linear", "factor": 2.0}""")]
    public void LinearIsReadUnderEitherKey(string value)
    {
        var s = Parse(value).RopeScaling;
        Assert.Equal(RopeScalingType.Linear, s.Type);
        Assert.Equal(2.0, s.Factor);
        Assert.Equal(RopeScaling.Linear(2), s);
    }

    [Theory]
    [InlineData("""{"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"}""")]
    [InlineData("""{"factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8192.0, "type": "llama3", "unused": true}""")]
    public void Llama3IsReadWithItsFourKeys(string value)
    {
        var s = Parse(value).RopeScaling;
        Assert.Equal(RopeScalingType.Llama3, s.Type);
        Assert.Equal((8.0, 1.0, 4.0, 8192), (s.Factor, s.LowFreqFactor, s.HighFreqFactor, s.OriginalMaxPositions));
        Assert.Equal(RopeScaling.Llama3(8, 1, 4, 8192), s);
    }

    [Theory]
    [InlineData("dynamic")]
    [InlineData("yarn")]
    [InlineData("ntk")]
    [InlineData("Linear")] // transformers' names are case-sensitive
    public void OtherTypesAreNotSupportedNamingTheTypeAndFile(string type)
    {
        var e = Assert.Throws<NotSupportedException>(() => Parse($$"""{"rope_type": "{{type}}", "factor": 4.0}"""));
        Assert.Contains($"rope_scaling type '{type}' is not supported (supported: default, linear, llama3, longrope)", e.Message);
        Assert.StartsWith(Source + ":", e.Message);
        var legacy = Assert.Throws<NotSupportedException>(() => Parse($$"""{"type": "{{type}}", "factor": 4.0}"""));
        Assert.Contains($"'{type}'", legacy.Message);
    }

    [Theory]
    [InlineData("""{"factor": 2.0}""", "rope_scaling {\"factor\":2.0} has no 'rope_type' (or legacy 'type')")]
    [InlineData("{}", "rope_scaling {} has no 'rope_type' (or legacy 'type')")]
    [InlineData("\"linear\"", "rope_scaling must be an object or null (got \"linear\")")]
    [InlineData("[1]", "rope_scaling must be an object or null (got [1])")]
    [InlineData("""{"rope_type": 3}""", "'rope_scaling.rope_type' must be a string (got 3)")]
    [InlineData("""{"rope_type": "linear", "type": "dynamic", "factor": 2.0}""",
        "rope_scaling.rope_type 'linear' and its legacy spelling rope_scaling.type 'dynamic' disagree")]
    [InlineData("""{"rope_type": "linear"}""", "required key 'rope_scaling.factor' is missing")]
    [InlineData("""{"rope_type": "linear", "factor": "2"}""", "'rope_scaling.factor' must be a number (got \"2\")")]
    [InlineData("""{"rope_type": "linear", "factor": 0}""", "rope_scaling.factor must be a finite number greater than 0 (got 0)")]
    [InlineData("""{"rope_type": "linear", "factor": -2.5}""", "rope_scaling.factor must be a finite number greater than 0 (got -2.5)")]
    [InlineData("""{"rope_type": "linear", "factor": 1e999}""", "rope_scaling.factor must be a finite number greater than 0 (got Infinity)")]
    [InlineData("""{"rope_type": "llama3"}""", "required key 'rope_scaling.factor' is missing")]
    [InlineData("""{"rope_type": "llama3", "factor": 8, "high_freq_factor": 4, "original_max_position_embeddings": 8192}""",
        "required key 'rope_scaling.low_freq_factor' is missing")]
    [InlineData("""{"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "original_max_position_embeddings": 8192}""",
        "required key 'rope_scaling.high_freq_factor' is missing")]
    [InlineData("""{"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4}""",
        "required key 'rope_scaling.original_max_position_embeddings' is missing")]
    [InlineData("""{"rope_type": "llama3", "factor": 0, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8192}""",
        "rope_scaling.factor must be a finite number greater than 0 (got 0)")]
    [InlineData("""{"rope_type": "llama3", "factor": 8, "low_freq_factor": 0, "high_freq_factor": 4, "original_max_position_embeddings": 8192}""",
        "rope_scaling.low_freq_factor must be a finite number greater than 0 (got 0)")]
    [InlineData("""{"rope_type": "llama3", "factor": 8, "low_freq_factor": 4, "high_freq_factor": 1, "original_max_position_embeddings": 8192}""",
        "rope_scaling.high_freq_factor must be a finite number greater than rope_scaling.low_freq_factor (got 1 and 4)")]
    [InlineData("""{"rope_type": "llama3", "factor": 8, "low_freq_factor": 4, "high_freq_factor": 4, "original_max_position_embeddings": 8192}""",
        "rope_scaling.high_freq_factor must be a finite number greater than rope_scaling.low_freq_factor (got 4 and 4)")]
    [InlineData("""{"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 0}""",
        "rope_scaling.original_max_position_embeddings must be positive (got 0)")]
    [InlineData("""{"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 8192.5}""",
        "'rope_scaling.original_max_position_embeddings' must be an integer (got 8192.5)")]
    public void InvalidValuesAreRefusedNamingTheKeyAndFile(string value, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() => Parse(value));
        Assert.Contains(message, e.Message);
        Assert.StartsWith(Source + ":", e.Message);
    }

    // A small Phi-3 config (head_dim 16): partial_rotary_factor, original_max_position_embeddings and rope_scaling as given.
    private static ModelConfig ParsePhi3(string extra) => ModelConfig.Parse(JsonNode.Parse($$"""
        {"architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100, "max_position_embeddings": 131072 {{extra}}}
        """)!.AsObject(), Source);

    [Theory]
    [InlineData("longrope")]
    [InlineData("su")] // the name early Phi-3 configs used
    public void LongRopeTakesItsLengthsFromTheTopOfTheConfig(string type)
    {
        var config = ParsePhi3($$""", "partial_rotary_factor": 0.75, "original_max_position_embeddings": 4096, "rope_scaling": {"type": "{{type}}", "short_factor": [1, 1.5, 2, 2.5, 3, 3.5], "long_factor": [2, 3, 4, 5, 6, 7]}""");
        var s = config.RopeScaling;
        Assert.Equal(RopeScalingType.LongRope, s.Type);
        Assert.Equal(12, config.RotaryDim);
        Assert.Equal(4096, s.OriginalMaxPositions);
        Assert.Equal(Math.Sqrt(1 + Math.Log(32) / Math.Log(4096)), s.AttentionFactor, 12); // 131072 / 4096 = 32
        Assert.Equal([1, 1.5, 2, 2.5, 3, 3.5], s.ShortFactors);
        Assert.Equal([2.0, 3, 4, 5, 6, 7], s.LongFactors);
        // An explicit attention_factor wins; without any original length the context is not extended (attention factor 1).
        Assert.Equal(1.5, ParsePhi3(""", "partial_rotary_factor": 0.75, "original_max_position_embeddings": 4096, "rope_scaling": {"type": "longrope", "attention_factor": 1.5, "short_factor": [1, 1, 1, 1, 1, 1], "long_factor": [1, 1, 1, 1, 1, 1]}""").RopeScaling.AttentionFactor);
        Assert.Equal(1.0, ParsePhi3(""", "partial_rotary_factor": 0.75, "rope_scaling": {"type": "longrope", "short_factor": [1, 1, 1, 1, 1, 1], "long_factor": [1, 1, 1, 1, 1, 1]}""").RopeScaling.AttentionFactor);
        // Written back, it reads as the same scaling.
        var again = ParsePhi3($$""", "partial_rotary_factor": 0.75, "original_max_position_embeddings": 4096, "rope_scaling": {{s.ToJson()!.ToJsonString()}}""");
        Assert.Equal(s, again.RopeScaling);
        Assert.NotEqual(s, ParsePhi3(""", "partial_rotary_factor": 0.75, "original_max_position_embeddings": 4096, "rope_scaling": {"type": "longrope", "short_factor": [1, 1.5, 2, 2.5, 3, 3.5], "long_factor": [2, 3, 4, 5, 6, 8]}""").RopeScaling);
    }

    [Theory]
    [InlineData(""", "rope_scaling": {"type": "longrope", "short_factor": [1, 1], "long_factor": [1, 1]}""",
        "rope_scaling.short_factor and long_factor have 2 entries; the rotary dimension 16 needs 8")]
    [InlineData(""", "rope_scaling": {"type": "longrope", "short_factor": [1, 1, 1, 1, 1, 1, 1, 1], "long_factor": [1, 1]}""",
        "rope_scaling.long_factor must have as many entries as rope_scaling.short_factor (2 and 8)")]
    [InlineData(""", "rope_scaling": {"type": "longrope", "short_factor": [1, 1, 1, 0, 1, 1, 1, 1], "long_factor": [1, 1, 1, 1, 1, 1, 1, 1]}""",
        "rope_scaling.short_factor must hold finite numbers greater than 0")]
    [InlineData(""", "rope_scaling": {"type": "longrope", "short_factor": "1", "long_factor": [1]}""",
        "rope_scaling.short_factor must be a non-empty list of numbers (got \"1\")")]
    [InlineData(""", "rope_scaling": {"type": "longrope", "short_factor": [1, "x"], "long_factor": [1, 1]}""",
        "rope_scaling.short_factor[1] must be a number")]
    [InlineData(""", "rope_scaling": {"type": "longrope", "short_factor": [1, 1, 1, 1, 1, 1, 1, 1]}""",
        "rope_scaling.long_factor must be a non-empty list of numbers (got nothing)")]
    [InlineData(""", "partial_rotary_factor": 0""", "partial_rotary_factor must be in (0, 1] (got 0)")]
    [InlineData(""", "partial_rotary_factor": 1.5""", "partial_rotary_factor must be in (0, 1] (got 1.5)")]
    [InlineData(""", "partial_rotary_factor": 0.3125""", "the rotary dimension head_dim × partial_rotary_factor (5) must be an even number in (0, 16]")]
    public void BadLongRopeAndPartialRotaryValuesAreRefusedNamingTheKey(string extra, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() => ParsePhi3(extra));
        Assert.Contains(message, e.Message);
        Assert.StartsWith(Source + ":", e.Message);
    }

    [Fact]
    public void BaichuanRefusesScalingButAcceptsNullAndDefault()
    {
        var e = Assert.Throws<NotSupportedException>(() => Parse("""{"rope_type": "linear", "factor": 2.0}""", "BaichuanForCausalLM"));
        Assert.Contains("rope_scaling type 'linear' is not supported for BaichuanForCausalLM", e.Message);
        Assert.Same(RopeScaling.None, Parse("null", "BaichuanForCausalLM").RopeScaling);
        Assert.Same(RopeScaling.None, Parse("""{"rope_type": "default"}""", "BaichuanForCausalLM").RopeScaling);
    }

    [Fact]
    public void TheFactoriesKeepTheSameInvariant()
    {
        Assert.Equal("factor", Assert.Throws<ArgumentOutOfRangeException>(() => RopeScaling.Linear(double.NaN)).ParamName);
        Assert.Equal("factor", Assert.Throws<ArgumentOutOfRangeException>(() => RopeScaling.Llama3(double.PositiveInfinity, 1, 4, 8192)).ParamName);
        Assert.Equal("lowFreqFactor", Assert.Throws<ArgumentOutOfRangeException>(() => RopeScaling.Llama3(8, -1, 4, 8192)).ParamName);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => RopeScaling.Llama3(8, 1, 1, 8192));
        Assert.Equal("highFreqFactor", e.ParamName);
        Assert.Contains("rope_scaling.high_freq_factor must be a finite number greater than rope_scaling.low_freq_factor", e.Message);
        Assert.Equal("originalMaxPositions", Assert.Throws<ArgumentOutOfRangeException>(() => RopeScaling.Llama3(8, 1, 4, -1)).ParamName);
    }

    [Fact]
    public void ToJsonReadsBackAsTheSameScaling()
    {
        Assert.Null(RopeScaling.None.ToJson());
        foreach (var s in new[] { RopeScaling.Linear(2.5), RopeScaling.Llama3(32, 1, 4, 8192) })
            Assert.Equal(s, RopeScaling.Parse(JsonNode.Parse(s.ToJson()!.ToJsonString()), Source));
        Assert.Equal("""{"factor":32,"high_freq_factor":4,"low_freq_factor":1,"original_max_position_embeddings":8192,"rope_type":"llama3"}""",
            RopeScaling.Llama3(32, 1, 4, 8192).ToJson()!.ToJsonString());
    }
}
