// bench serve asks every request for exactly its output length (max_tokens with ignore_eos); a server that returns another number
// (ignored max_tokens, a truncated stream, a usage count that disagrees) is reported, since the throughput counts what came back.
using Estuary.Bench.Output;
using Estuary.Bench.Stats;
using Estuary.Cli.Bench;

namespace Estuary.Cli.Tests;

public class OffLengthWarningTests
{
    private static BenchRun Run(params RequestResult[] requests) => new()
    {
        Label = "x", Api = "openai-chat", Target = "t", OutputLength = 8,
        Levels = [LevelResult.From(1, null, 1.0, requests)],
    };

    private static RequestResult Ok(int returned, bool fromServer, int asked = 8) =>
        new() { Success = true, OutputTokens = returned, RequestedOutputTokens = asked, CountsFromServer = fromServer, Ttft = 0.1, Latency = 0.2 };

    [Fact]
    public void ExactCountsFromTheServerAndSmallRetokenizingDriftPass()
    {
        Assert.Null(SweepRunner.OffLengthWarning(Run(Ok(8, fromServer: true), Ok(7, fromServer: false), Ok(10, fromServer: false))));
        Assert.Null(SweepRunner.OffLengthWarning(Run(new RequestResult { Success = false, Error = "HTTP 500" })));
    }

    [Fact]
    public void OtherCountsAreReportedWithTheirRange()
    {
        Assert.Equal("warning: 2 of 3 successful requests returned 5–80 output tokens where 8 were asked for (max_tokens with ignore_eos); " +
            "the throughput counts the tokens returned",
            SweepRunner.OffLengthWarning(Run(Ok(80, fromServer: true), Ok(8, fromServer: true), Ok(5, fromServer: false))));
        Assert.Contains("where another number were asked for",
            SweepRunner.OffLengthWarning(Run(Ok(80, fromServer: true, asked: 8), Ok(9, fromServer: true, asked: 16))));
    }
}
