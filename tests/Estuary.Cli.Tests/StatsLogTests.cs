// The serve log's engine line: rates over the interval from two snapshots, occupancy from the later one, silence when idle.
using Estuary.Cli.Hosting;
using Estuary.Engine;

namespace Estuary.Cli.Tests;

public class StatsLogTests
{
    [Fact]
    public void ALineGivesTheIntervalsRatesAndTheCurrentOccupancy()
    {
        var before = new EngineStats(1000, 900, 100, 2, 0, 1, 50, NumPromptTokensComputed: 4096, NumGeneratedTokens: 300);
        var after = new EngineStats(1000, 750, 250, 3, 4, 2, 80, NumPromptTokensComputed: 4096 + 1024, NumGeneratedTokens: 300 + 250);
        var line = StatsLog.Line(before, after, TimeSpan.FromSeconds(2));
        Assert.Equal("engine: prompt 512.0 tokens/s, generation 125.0 tokens/s, running 3, waiting 4, KV cache 25.0% (250/1000 blocks), preemptions 2", line);
    }

    [Fact]
    public void SpeculativeDecodingAddsTheIntervalsDraftAcceptance()
    {
        var before = new EngineStats(1000, 900, 100, 2, 0, 1, 50, NumDraftTokens: 100, NumAcceptedDraftTokens: 40);
        var after = before with { NumSteps = 60, NumDraftTokens = 180, NumAcceptedDraftTokens = 70 };
        Assert.EndsWith(", preemptions 1, drafts accepted 37.5% (30/80)", StatsLog.Line(before, after, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void AnIdleEngineLogsNothingButAQueueAloneIsReported()
    {
        var idle = new EngineStats(100, 100, 0, 0, 0, 0, 7);
        Assert.Null(StatsLog.Line(idle, idle, TimeSpan.FromSeconds(10)));
        var stuck = idle with { NumWaiting = 2 };
        Assert.Contains("waiting 2", StatsLog.Line(idle, stuck, TimeSpan.FromSeconds(10)));
    }
}
