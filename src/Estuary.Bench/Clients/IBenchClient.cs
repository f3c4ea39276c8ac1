// One API dialect a benchmark can drive; implementations stream and time a single request.
using System.Diagnostics;
using Estuary.Bench.Stats;
using Estuary.Bench.Workloads;

namespace Estuary.Bench.Clients;

/// <summary>Sends one workload request to a server and times it.</summary>
public interface IBenchClient
{
    /// <summary>Dialect name for reports ("openai-chat", "triton", "inference").</summary>
    string Name { get; }

    /// <summary>Sends <paramref name="request"/>; <paramref name="clock"/> is the benchmark's clock (offsets are taken from it).</summary>
    Task<RequestResult> SendAsync(BenchRequest request, Stopwatch clock, CancellationToken cancellationToken);
}
