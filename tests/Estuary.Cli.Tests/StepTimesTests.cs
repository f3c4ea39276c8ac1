// bench compare's roofline: the prediction formula, the decode context it is measured at, and a real measurement.
using Estuary.Cli.Bench;
using Estuary.Cli.Hosting;
using Estuary.Engine;

namespace Estuary.Cli.Tests;

public class StepTimesTests
{
    [Fact]
    public void PredictedRatioIsNaiveTimePerRequestOverContinuousTimePerRequest()
    {
        // P = 0.6 s, d₁ = 9 ms, d₁₆ = 60 ms, 256 outputs: 16 (0.6 + 2.304) / (9.6 + 15.36) = 46.464 / 24.96.
        var t = new StepTimes(0.6, 0.009, 0.060, 16, 640);
        Assert.Equal(46.464 / 24.96, t.PredictedRatio(256), 9);
        // At concurrency 1 the two servers do the same work when d_C = d₁.
        Assert.Equal(1.0, new StepTimes(0.6, 0.009, 0.009, 1, 640).PredictedRatio(128), 9);
    }

    [Fact]
    public void DecodeStepsAreTimedAtThePromptPlusHalfTheOutputWithinTheContextLimit()
    {
        Assert.Equal(640, StepTimes.MeanDecodeContext(512, 256, 4096, 16));
        Assert.Equal(576, StepTimes.MeanDecodeContext(512, 128, 4096, 16));
        Assert.Equal(238, StepTimes.MeanDecodeContext(512, 128, 256, 16)); // 256 − 16 steps − 2
        Assert.Equal(1, StepTimes.MeanDecodeContext(1, 0, 10, 16));
    }

    [Fact]
    public void AMeasurementTimesEveryStepKindAndReturnsEveryBlock()
    {
        // A 32-token budget: the four 32-token prompts are prefilled over four steps while the first ones already decode.
        var config = new EngineConfig { NumThreads = 2, NumKvBlocks = 64, MaxNumSeqs = 4, MaxNumBatchedTokens = 32, EnablePrefixCaching = false };
        using var engine = LlmEngine.Load(DefaultModel.Directory, config);
        var t = StepTimes.Measure(engine, inputLength: 24, outputLength: 16, concurrency: 4);
        Assert.Equal(32, t.DecodeContext);
        Assert.Equal(4, t.Concurrency);
        foreach (double s in new[] { t.Prefill, t.Decode1, t.DecodeC }) Assert.True(s > 0 && double.IsFinite(s), $"step time {s}");
        Assert.False(engine.HasUnfinishedRequests);
        Assert.Equal(engine.Stats.NumKvBlocks, engine.Stats.NumFreeKvBlocks);
    }
}
