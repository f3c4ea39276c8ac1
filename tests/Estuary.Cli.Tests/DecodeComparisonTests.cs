// bench decode's statistics: per-round ratios to the first model and their median, from recorded samples and from a real run.
using Estuary.Cli.Bench;
using Estuary.Cli.Hosting;
using Estuary.Engine;

namespace Estuary.Cli.Tests;

public class DecodeComparisonTests
{
    [Fact]
    public void RatiosArePerRoundAgainstTheFirstModelAndTheMedianIsTheMiddleOne()
    {
        // Model 0 drifts 10 → 20 → 15; model 1 is 2× it in every round but one (3×): per-round ratios 2, 3, 2 → median 2.
        var c = DecodeComparison.FromSamples([[10, 20, 15], [20, 60, 30]]);
        Assert.Equal(15, c.Median(0));
        Assert.Equal(30, c.Median(1));
        Assert.Equal(1, c.MedianRatioToFirst(0));
        Assert.Equal(2, c.MedianRatioToFirst(1));
        Assert.Equal((2.0, 3.0), c.RatioRange(1));
        // An even number of rounds: the mean of the two middle ratios.
        Assert.Equal(2.5, DecodeComparison.FromSamples([[1, 1, 1, 1], [1, 2, 3, 9]]).MedianRatioToFirst(1));
    }

    [Fact]
    public void ARunMeasuresEveryModelInEveryRound()
    {
        var config = new EngineConfig { NumThreads = 2, NumKvBlocks = 16, MaxNumSeqs = 1, EnablePrefixCaching = false };
        using var a = LlmEngine.Load(DefaultModel.Directory, config);
        using var b = LlmEngine.Load(DefaultModel.Directory, config);
        int rounds = 0;
        var c = DecodeComparison.Run([a, b], rounds: 3, tokens: 8, done => rounds = done);
        Assert.Equal(3, rounds);
        Assert.Equal(2, c.Samples.Length);
        Assert.All(c.Samples, s => Assert.Equal(3, s.Length));
        Assert.All(c.Samples.SelectMany(s => s), v => Assert.True(v > 0 && double.IsFinite(v), $"rate {v}"));
        Assert.Equal(a.Stats.NumKvBlocks, a.Stats.NumFreeKvBlocks); // every measurement gave its blocks back
        Assert.Throws<ArgumentOutOfRangeException>(() => DecodeComparison.Run([a], rounds: 0, tokens: 8));
    }
}
