// Mean, median, p90 and p99 of a sample (linear interpolation between order statistics, as numpy.percentile does).
namespace Estuary.Bench.Stats;

/// <summary>Distribution summary in the sample's unit.</summary>
public sealed record Summary(double Mean, double Median, double P90, double P99, double Min, double Max)
{
    /// <summary>An empty sample summarises as zeros.</summary>
    public static Summary Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) return new Summary(0, 0, 0, 0, 0, 0);
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return new Summary(sorted.Average(), Percentile(sorted, 50), Percentile(sorted, 90), Percentile(sorted, 99), sorted[0], sorted[^1]);
    }

    /// <summary>The q-th percentile of sorted values.</summary>
    public static double Percentile(double[] sorted, double q)
    {
        double rank = q / 100.0 * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
}
