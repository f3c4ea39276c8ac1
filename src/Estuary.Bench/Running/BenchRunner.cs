// Runs one benchmark level: a closed loop of at most C requests in flight, or Poisson arrivals at a request rate.
using System.Diagnostics;
using Estuary.Bench.Clients;
using Estuary.Bench.Stats;
using Estuary.Bench.Workloads;

namespace Estuary.Bench.Running;

/// <summary>Drives a client through a workload.</summary>
public static class BenchRunner
{
    /// <summary>Sends <paramref name="warmup"/> requests one after another; results are discarded.</summary>
    public static async Task WarmupAsync(IBenchClient client, IReadOnlyList<BenchRequest> work, int warmup, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < warmup; i++) await client.SendAsync(work[i % work.Count], clock, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs every request of <paramref name="work"/> with at most <paramref name="concurrency"/> in flight (0 = unlimited);
    /// with a <paramref name="requestRate"/>, sends start at exponentially distributed gaps (seeded).
    /// </summary>
    public static async Task<LevelResult> RunLevelAsync(IBenchClient client, IReadOnlyList<BenchRequest> work, int concurrency,
        double? requestRate, int seed, IProgress<int>? completed, CancellationToken ct, TimeSpan? requestTimeout = null)
    {
        if (concurrency < 0) throw new ArgumentOutOfRangeException(nameof(concurrency), "concurrency must be >= 0");
        if (requestRate is <= 0) throw new ArgumentOutOfRangeException(nameof(requestRate), "--request-rate must be positive");
        using var gate = new SemaphoreSlim(concurrency > 0 ? concurrency : int.MaxValue);
        var rng = new Random(seed);
        var clock = Stopwatch.StartNew();
        var tasks = new List<Task<RequestResult>>(work.Count);
        int done = 0;
        double nextStart = 0;
        foreach (var request in work)
        {
            if (requestRate is { } rate)
            {
                nextStart += -Math.Log(1 - rng.NextDouble()) / rate;
                var wait = nextStart - clock.Elapsed.TotalSeconds;
                if (wait > 0) await Task.Delay(TimeSpan.FromSeconds(wait), ct).ConfigureAwait(false);
            }
            await gate.WaitAsync(ct).ConfigureAwait(false);
            tasks.Add(Task.Run(async () =>
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
                if (requestTimeout is { } limit) deadline.CancelAfter(limit);
                double started = clock.Elapsed.TotalSeconds;
                try
                {
                    return await client.SendAsync(request, clock, deadline.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    // A server that stops sending mid-stream would otherwise hold the benchmark forever.
                    return new RequestResult
                    {
                        Index = request.Index,
                        Success = false,
                        Error = $"no complete response within {requestTimeout!.Value.TotalSeconds:0.#} s (--request-timeout)",
                        Latency = clock.Elapsed.TotalSeconds - started,
                        StartOffset = started,
                        RequestedOutputTokens = request.OutputLength,
                    };
                }
                finally
                {
                    gate.Release();
                    completed?.Report(Interlocked.Increment(ref done));
                }
            }, ct));
        }
        var results = await Task.WhenAll(tasks).ConfigureAwait(false);
        double first = results.Min(r => r.StartOffset);
        double last = results.Max(r => r.StartOffset + r.Latency);
        return LevelResult.From(concurrency, requestRate, last - first, results);
    }
}
