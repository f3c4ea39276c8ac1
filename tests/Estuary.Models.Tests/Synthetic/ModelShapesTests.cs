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
    [InlineData("baichuan2-7b", 7_505_973_248L)]
    [InlineData("baichuan2-13b", 13_896_668_160L)]
    public void RealPresetsHaveTheParameterCountsOfThePublishedModels(string name, long parameters) =>
        Assert.Equal(parameters, ModelShapes.Get(name).ParameterCount);

    [Theory]
    [InlineData("tinyllama-1.1b", PositionEncoding.Rope, 4)]
    [InlineData("llama2-7b", PositionEncoding.Rope, 32)]
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
    }

    [Fact]
    public void LookupIsCaseInsensitiveAndUnknownNamesListTheValidOnes()
    {
        Assert.Same(ModelShapes.Get("llama2-7b"), ModelShapes.Get("LLaMA2-7B"));
        var e = Assert.Throws<ArgumentException>(() => ModelShapes.Get("gpt-5"));
        Assert.Contains("gpt-5", e.Message);
        Assert.All(ModelShapes.Names, n => Assert.Contains(n, e.Message));
        Assert.Equal(8, ModelShapes.Names.Count);
        Assert.Contains("llama-110m", ModelShapes.Names);
        Assert.Equal(125696, ModelShapes.Get("baichuan2-13b").VocabSize);
        Assert.Null(ModelShapes.Get("baichuan2-13b").MaxPositionEmbeddings);
        Assert.Equal(4096, ModelShapes.Get("baichuan2-13b").ModelMaxLength);
    }
}
