// Single-sequence decode speed of several loaded models measured in alternation: round r measures every model once (in the listed
// order on even rounds, reversed on odd ones, so a steady drift within a round favours no model), so each model's r-th sample is
// taken within seconds of the others'. On a shared machine whose speed drifts by tens of percent between minutes, the per-round
// ratios to the first model cancel most of the drift that separate runs would put into a ratio.
using Estuary.Engine;

namespace Estuary.Cli.Bench;

/// <summary>Decode tokens/s per model and round, and ratios to the first model.</summary>
internal sealed class DecodeComparison
{
    private DecodeComparison(double[][] samples) => Samples = samples;

    /// <summary>[model][round] decode tokens/s.</summary>
    public double[][] Samples { get; }

    /// <summary>Runs <paramref name="rounds"/> rounds (after one untimed warm-up round) of one <paramref name="tokens"/>-token decode per engine.</summary>
    public static DecodeComparison Run(IReadOnlyList<LlmEngine> engines, int rounds, int tokens, Action<int>? roundDone = null)
    {
        if (engines.Count == 0) throw new ArgumentException("no models to compare", nameof(engines));
        if (rounds < 1) throw new ArgumentOutOfRangeException(nameof(rounds), $"rounds must be at least 1, got {rounds}");
        if (tokens < 1) throw new ArgumentOutOfRangeException(nameof(tokens), $"decode tokens must be at least 1, got {tokens}");
        var rng = new Random(7);
        foreach (var e in engines) CpuBenchmark.DecodeRate(e, 1, Math.Min(tokens, 8), rng); // JIT and first touches
        var samples = engines.Select(_ => new double[rounds]).ToArray();
        for (int r = 0; r < rounds; r++)
        {
            for (int i = 0; i < engines.Count; i++)
            {
                int m = r % 2 == 0 ? i : engines.Count - 1 - i;
                samples[m][r] = CpuBenchmark.DecodeRate(engines[m], 1, tokens, rng);
            }
            roundDone?.Invoke(r + 1);
        }
        return new DecodeComparison(samples);
    }

    /// <summary>Creates a comparison from recorded samples ([model][round]).</summary>
    public static DecodeComparison FromSamples(double[][] samples) => new(samples);

    /// <summary>Median tokens/s of model <paramref name="m"/>.</summary>
    public double Median(int m) => CpuBenchmark.Median(Samples[m]);

    /// <summary>Median over rounds of model <paramref name="m"/>'s tokens/s divided by the first model's in the same round.</summary>
    public double MedianRatioToFirst(int m) => CpuBenchmark.Median(Samples[m].Select((v, r) => v / Samples[0][r]).ToArray());

    /// <summary>Smallest and largest per-round ratio to the first model.</summary>
    public (double Min, double Max) RatioRange(int m)
    {
        var ratios = Samples[m].Select((v, r) => v / Samples[0][r]).ToArray();
        return (ratios.Min(), ratios.Max());
    }

}
