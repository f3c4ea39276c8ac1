// Tests of the named shape presets: real sizes match the published configs and every preset yields a valid config.
using Estuary.Models.Config;
using Estuary.Models.Synthetic;
using Estuary.Tensors;

namespace Estuary.Models.Tests.Synthetic;

public class ModelShapesTests
{
    [Theory]
    [InlineData("tinyllama-1.1b", 1_100_048_384L)]
    [InlineData("llama2-7b", 6_738_415_616L)]
    [InlineData("llama3.2-1b", 1_235_814_400L)] // tied: the embedding is counted once
    [InlineData("llama3.1-8b", 8_030_261_248L)]
    [InlineData("mistral-7b", 7_248_023_552L)] // v0.3 (32768-piece vocabulary)
    [InlineData("qwen2.5-7b", 7_615_616_512L)] // q/k/v biases included
    [InlineData("qwen3-8b", 8_190_735_360L)]   // q/k norms included
    [InlineData("phi-3-mini", 3_821_079_552L)]
    [InlineData("phi-4-mini", 3_836_021_760L)] // tied
    [InlineData("baichuan2-7b", 7_505_973_248L)]
    [InlineData("baichuan2-13b", 13_896_668_160L)]
    public void RealPresetsHaveTheParameterCountsOfThePublishedModels(string name, long parameters) =>
        Assert.Equal(parameters, ModelShapes.Get(name).ParameterCount);

    [Theory]
    [InlineData("tinyllama-1.1b", PositionEncoding.Rope, 4)]
    [InlineData("llama2-7b", PositionEncoding.Rope, 32)]
    [InlineData("llama3.2-1b", PositionEncoding.Rope, 8)]
    [InlineData("llama3.1-8b", PositionEncoding.Rope, 8)]
    [InlineData("mistral-7b", PositionEncoding.Rope, 8)]
    [InlineData("qwen2.5-7b", PositionEncoding.Rope, 4)]
    [InlineData("qwen3-8b", PositionEncoding.Rope, 8)]
    [InlineData("tiny-mistral", PositionEncoding.Rope, 2)]
    [InlineData("tiny-qwen2", PositionEncoding.Rope, 2)]
    [InlineData("tiny-qwen3", PositionEncoding.Rope, 2)]
    [InlineData("phi-3-mini", PositionEncoding.Rope, 32)]
    [InlineData("phi-4-mini", PositionEncoding.Rope, 8)]
    [InlineData("tiny-phi3", PositionEncoding.Rope, 2)]
    [InlineData("baichuan2-7b", PositionEncoding.Rope, 32)]
    [InlineData("baichuan2-13b", PositionEncoding.Alibi, 40)]
    [InlineData("tiny-llama", PositionEncoding.Rope, 2)]
    [InlineData("tiny-baichuan-rope", PositionEncoding.Rope, 4)]
    [InlineData("tiny-baichuan-alibi", PositionEncoding.Alibi, 6)]
    public void EveryPresetParsesWithTheIntendedPositionEncoding(string name, PositionEncoding encoding, int kvHeads)
    {
        var shape = ModelShapes.Get(name);
        Assert.Equal(encoding, shape.PositionEncoding);
        var config = ModelConfig.Parse(RandomModelWriter.BuildConfig(shape, DType.BF16));
        Assert.Equal(encoding, config.PositionEncoding);
        Assert.Equal(kvHeads, config.NumKvHeads);
        Assert.Equal(shape.VocabSize, config.VocabSize);
        Assert.Equal(shape.HiddenSize / shape.NumHeads, config.HeadDim);
        Assert.Equal((float)shape.RmsNormEps, config.RmsNormEps);
        Assert.Equal(4096, name.StartsWith("baichuan2") ? config.MaxPositions : 4096);
        Assert.Equal(shape.RopeScaling, config.RopeScaling);
        Assert.Equal(shape.TieWordEmbeddings, config.TieWordEmbeddings);
    }

    [Theory]
    [InlineData("llama3.2-1b", 32.0, 64, true)]
    [InlineData("llama3.1-8b", 8.0, 128, false)]
    public void Llama3PresetsCarryTheirPublishedRopeSettings(string name, double factor, int headDim, bool tied)
    {
        var config = ModelConfig.Parse(RandomModelWriter.BuildConfig(ModelShapes.Get(name), DType.BF16));
        Assert.Equal(500000.0, config.RopeTheta);
        Assert.Equal(131072, config.MaxPositions);
        Assert.Equal(RopeScaling.Llama3(factor, 1, 4, 8192), config.RopeScaling);
        Assert.Equal(headDim, config.HeadDim);
        Assert.Equal(tied, config.TieWordEmbeddings);
        Assert.Equal((128256, 8), (config.VocabSize, config.NumKvHeads));
        // Llama 3.1 Instruct's special ids: <|begin_of_text|>, and stops at 128001, 128008 and 128009 (<|eot_id|>).
        Assert.Equal(SyntheticTokenizer.ByteLevel, ModelShapes.Get(name).Tokenizer);
        Assert.Equal(128000, config.BosTokenId);
        Assert.Equal([128001, 128008, 128009], config.EosTokenIds);
    }

    [Fact]
    public void OnlyTheLlama3AndPhi4PresetsGetAByteLevelTokenizer() =>
        Assert.Equal(["llama3.2-1b", "llama3.1-8b", "phi-4-mini"], ModelShapes.All.Where(s => s.Tokenizer == SyntheticTokenizer.ByteLevel).Select(s => s.Name));

    [Fact]
    public void Phi3PresetsCarryTheirPublishedLayout()
    {
        var mini3 = ModelConfig.Parse(RandomModelWriter.BuildConfig(ModelShapes.Get("phi-3-mini"), DType.BF16));
        Assert.Equal((true, true, 96, 2047), (mini3.FusedQkv, mini3.FusedGateUp, mini3.RotaryDim, mini3.Variant.SlidingWindow));
        Assert.Equal(RopeScalingType.Default, mini3.RopeScaling.Type);
        var mini4 = ModelConfig.Parse(RandomModelWriter.BuildConfig(ModelShapes.Get("phi-4-mini"), DType.BF16));
        Assert.Equal((128, 96, 0), (mini4.HeadDim, mini4.RotaryDim, mini4.Variant.SlidingWindow));
        Assert.Equal(RopeScalingType.LongRope, mini4.RopeScaling.Type);
        Assert.Equal(4096, mini4.RopeScaling.OriginalMaxPositions);
        Assert.Equal(Math.Sqrt(1 + Math.Log(32) / Math.Log(4096)), mini4.RopeScaling.AttentionFactor, 12);
        Assert.Equal(48, mini4.RopeScaling.LongFactors.Count);
        Assert.True(mini4.TieWordEmbeddings);
    }

    [Fact]
    public void LookupIsCaseInsensitiveAndUnknownNamesListTheValidOnes()
    {
        Assert.Same(ModelShapes.Get("llama2-7b"), ModelShapes.Get("LLaMA2-7B"));
        var e = Assert.Throws<ArgumentException>(() => ModelShapes.Get("gpt-5"));
        Assert.Contains("gpt-5", e.Message);
        Assert.All(ModelShapes.Names, n => Assert.Contains(n, e.Message));
        Assert.Equal(19, ModelShapes.Names.Count);
        Assert.Contains("llama-110m", ModelShapes.Names);
        Assert.Equal(125696, ModelShapes.Get("baichuan2-13b").VocabSize);
        Assert.Null(ModelShapes.Get("baichuan2-13b").MaxPositionEmbeddings);
        Assert.Equal(4096, ModelShapes.Get("baichuan2-13b").ModelMaxLength);
    }
}
