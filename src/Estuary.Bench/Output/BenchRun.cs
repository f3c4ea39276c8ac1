// A whole benchmark run as written to disk: settings, machine, and every level.
using Estuary.Bench.Stats;

namespace Estuary.Bench.Output;

/// <summary>One deployment's sweep.</summary>
public sealed record BenchRun
{
    /// <summary>Line label in charts (the deployment).</summary>
    public required string Label { get; init; }
    /// <summary>API dialect.</summary>
    public required string Api { get; init; }
    /// <summary>Server base URL, or "offline".</summary>
    public required string Target { get; init; }
    /// <summary>Model name sent to the server.</summary>
    public string Model { get; init; } = "";
    /// <summary>Prompt tokens per request (random workloads).</summary>
    public int InputLength { get; init; }
    /// <summary>Output tokens per request.</summary>
    public int OutputLength { get; init; }
    /// <summary>Requests per level.</summary>
    public int NumPrompts { get; init; }
    /// <summary>Machine description (CPU model, cores).</summary>
    public string Machine { get; init; } = "";
    /// <summary>UTC start time.</summary>
    public DateTime StartedUtc { get; init; }
    /// <summary>Levels in the order run.</summary>
    public IReadOnlyList<LevelResult> Levels { get; init; } = [];
}
