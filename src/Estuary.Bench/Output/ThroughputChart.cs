// Output tokens/s against concurrency, one line per deployment (ScottPlot PNG), like the deployment guides' figures.
namespace Estuary.Bench.Output;

/// <summary>Throughput-vs-concurrency chart.</summary>
public static class ThroughputChart
{
    /// <summary>Saves a PNG with one line per run; the x axis is log2 of concurrency.</summary>
    public static void Save(string path, IReadOnlyList<BenchRun> runs, string? title = null)
    {
        if (runs.Count == 0) throw new ArgumentException("no runs to plot", nameof(runs));
        var plot = new ScottPlot.Plot();
        var ticks = new SortedSet<int>();
        foreach (var run in runs)
        {
            var levels = run.Levels.Where(l => l.Concurrency > 0).OrderBy(l => l.Concurrency).ToArray();
            if (levels.Length == 0) continue;
            var xs = levels.Select(l => Math.Log2(l.Concurrency)).ToArray();
            var ys = levels.Select(l => l.OutputThroughput).ToArray();
            var line = plot.Add.Scatter(xs, ys);
            line.LegendText = run.Label;
            line.MarkerSize = 7;
            line.LineWidth = 2;
            foreach (var l in levels) ticks.Add(l.Concurrency);
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            ticks.Select(t => Math.Log2(t)).ToArray(), ticks.Select(t => t.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
        var first = runs[0];
        plot.Title(title ?? $"Output throughput vs concurrency ({first.InputLength} in / {first.OutputLength} out)");
        plot.XLabel("concurrency (requests in flight)");
        plot.YLabel("output tokens/s");
        // Throughput starts at zero, so the gap between lines reads as the ratio it is (and a lone low point is not on the frame).
        plot.Axes.AutoScale();
        var limits = plot.Axes.GetLimits();
        plot.Axes.SetLimitsY(0, Math.Max(limits.Top, 1) * 1.08);
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir != null) Directory.CreateDirectory(dir);
        plot.SavePng(path, 900, 560);
    }
}
