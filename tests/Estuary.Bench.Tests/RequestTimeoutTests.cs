// A server that stops sending mid-stream must not hold the benchmark forever: past --request-timeout the request counts as failed,
// the level completes, and the other requests' results stand.
using System.Diagnostics;
using Estuary.Bench.Clients;
using Estuary.Bench.Running;
using Estuary.Bench.Stats;
using Estuary.Bench.Workloads;

namespace Estuary.Bench.Tests;

public sealed class RequestTimeoutTests
{
    /// <summary>Answers request 0 at once; every other request waits until cancelled, as a stalled stream does.</summary>
    private sealed class StallingClient : IBenchClient
    {
        public string Name => "stalling";

        public async Task<RequestResult> SendAsync(BenchRequest request, Stopwatch clock, CancellationToken cancellationToken)
        {
            if (request.Index != 0) await Task.Delay(Timeout.Infinite, cancellationToken);
            return new RequestResult { Index = 0, Success = true, OutputTokens = 4, Ttft = 0.001, Latency = 0.002 };
        }
    }

    [Fact]
    public async Task AStalledRequestFailsAtTheTimeoutAndTheLevelCompletes()
    {
        BenchRequest[] work = [new(0, "a", [1], 4), new(1, "b", [2], 4)];
        var run = BenchRunner.RunLevelAsync(new StallingClient(), work, concurrency: 2, requestRate: null, seed: 0, completed: null,
            CancellationToken.None, requestTimeout: TimeSpan.FromMilliseconds(300));
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(20))) == run, "the level hung");
        var level = await run;
        Assert.Equal(1, level.Completed);
        Assert.Equal(1, level.Failed);
        var failed = Assert.Single(level.Requests, r => !r.Success);
        Assert.Equal("no complete response within 0.3 s (--request-timeout)", failed.Error);
        Assert.InRange(failed.Latency, 0.25, 15);
    }
}
