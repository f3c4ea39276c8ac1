// Quantized models through the whole engine: the AWQ fixture's greedy ids, and perplexity of on-the-fly INT8 on the trained fixture.
using Estuary.Backend.Cpu;
using Estuary.Engine.Evaluation;
using Estuary.Models;
using Estuary.Models.Quantization;
using Estuary.Testing;
using Estuary.Tokenization;

namespace Estuary.Engine.Tests.Quantization;

public class QuantizedEngineTests
{
    [Fact]
    public void AwqFixtureGreedyIdsMatchReference() =>
        new GreedyGenerationTests().BatchedGreedyMatchesReference("baichuan2-bible-256-awq-rtn");

    [Fact]
    public void AwqModeLoadsTheAwqFixtureAndRefusesAFloatModel()
    {
        using var llm = Llm.Load(Fixtures.Path("baichuan2-bible-256-awq-rtn"), new EngineConfig { Quantization = QuantizationMode.Awq });
        Assert.True(llm.Engine.Model.WeightBytes < 4_024_576 * 2 / 2); // embeddings/head stay F16; linears are 4-bit
        Assert.Throws<NotSupportedException>(() => Llm.Load(Fixtures.Path("baichuan2-bible-256"), new EngineConfig { Quantization = QuantizationMode.Awq }));
    }

    [Fact]
    public void OnTheFlyInt8PerplexityIsWithinOnePercentOfFloat()
    {
        var dir = Fixtures.Path("baichuan2-bible-256");
        using var reference = Fixtures.Json("baichuan2-bible-256", "reference.json");
        var results = reference.RootElement.GetProperty("perplexity").GetProperty("results");
        double float32 = results.GetProperty("float32").GetProperty("perplexity").GetDouble();
        double rtn8 = results.GetProperty("int8_rtn_per_channel").GetProperty("perplexity").GetDouble();
        var ids = TextTokenizer.Load(dir).Encode(File.ReadAllText(Fixtures.Path("baichuan2-bible-256", "heldout.txt")), addSpecialTokens: false);
        using var backend = new CpuBackend();

        // The fixture's INT8 reference quantizes the decoder linears only: with the head kept, the same RTN up to the F16 scales.
        using (var blocksOnly = ModelLoader.Load(dir, backend))
        {
            ModelQuantizer.QuantizeInt8(blocksOnly, keepHead: true);
            Assert.IsType<QuantizedLinear>(blocksOnly.Layers[0].Attention.QProj);
            Assert.IsNotType<QuantizedLinear>(blocksOnly.Head.Linear);
            var ppl = PerplexityEvaluator.Evaluate(blocksOnly, ids, 256).Perplexity;
            Assert.InRange(ppl, rtn8 - 0.01, rtn8 + 0.01);
        }

        // --quantization int8 quantizes the (untied, NormHead) head too; still within 1 % of float.
        using var model = ModelLoader.Load(dir, backend, quantization: QuantizationMode.Int8);
        Assert.IsType<QuantizedLinear>(model.Layers[0].Attention.QProj);
        Assert.IsType<QuantizedLinear>(model.Head.Linear);
        Assert.True(model.Head.NormalizesRows);
        var withHead = PerplexityEvaluator.Evaluate(model, ids, 256).Perplexity;
        Assert.InRange(withHead, float32 * 0.99, float32 * 1.01);
    }
}
