// Perplexity on the trained fixture's held-out text reproduces the reference float32 number.
using Estuary.Backend.Cpu;
using Estuary.Engine.Evaluation;
using Estuary.Models;
using Estuary.Testing;
using Estuary.Tokenization;

namespace Estuary.Engine.Tests.Evaluation;

public class PerplexityTests
{
    [Fact]
    public void HeldoutPerplexityMatchesTheFloat32Reference()
    {
        using var reference = Fixtures.Json("baichuan2-bible-256", "reference.json");
        var ppl = reference.RootElement.GetProperty("perplexity");
        var expected = ppl.GetProperty("results").GetProperty("float32");
        var dir = Fixtures.Path("baichuan2-bible-256");
        var ids = TextTokenizer.Load(dir).Encode(File.ReadAllText(Fixtures.Path("baichuan2-bible-256", "heldout.txt")), addSpecialTokens: false);
        using var backend = new CpuBackend();
        using var model = ModelLoader.Load(dir, backend);
        var result = PerplexityEvaluator.Evaluate(model, ids, ppl.GetProperty("window").GetInt32());
        Assert.Equal(expected.GetProperty("num_windows").GetInt32(), result.NumWindows);
        Assert.Equal(expected.GetProperty("num_scored_tokens").GetInt64(), result.NumScoredTokens);
        Assert.Equal(expected.GetProperty("mean_nll").GetDouble(), result.MeanNll, 5);
        Assert.Equal(expected.GetProperty("perplexity").GetDouble(), result.Perplexity, 3);
    }

    [Fact]
    public void BadWindowsAreRejected()
    {
        using var backend = new CpuBackend(1);
        using var model = ModelLoader.Load(Fixtures.Path("stories260k"), backend);
        Assert.Throws<ArgumentOutOfRangeException>(() => PerplexityEvaluator.Evaluate(model, [1, 2, 3], 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PerplexityEvaluator.Evaluate(model, [1, 2, 3], 100_000));
        Assert.Throws<ArgumentException>(() => PerplexityEvaluator.Evaluate(model, [1], 16));
    }
}
