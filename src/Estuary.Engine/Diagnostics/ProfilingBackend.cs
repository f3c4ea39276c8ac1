// An IBackend decorator that times every operation (wall clock, the call returns when the kernel is done on the CPU backend)
// and prints a table of where a run spent its time when disposed. Enabled with ESTUARY_PROFILE=1; off by default.
using System.Diagnostics;
using Estuary.Tensors;
using Estuary.Tensors.Quantization;

namespace Estuary.Engine.Diagnostics;

/// <summary>Times each backend operation by name and reports the totals on <see cref="Dispose"/>.</summary>
public sealed class ProfilingBackend(IBackend inner, TextWriter report) : IBackend
{
    // Keyed by operation and, for matmuls, weight shape (0, 0 otherwise): the label is formatted once, at the report.
    private readonly Dictionary<(string Op, int Rows, int Cols), (long Ticks, long Calls)> _totals = [];
    private long _firstStart, _lastEnd;

    /// <summary>True when the ESTUARY_PROFILE environment variable is set to 1.</summary>
    public static bool Enabled => Environment.GetEnvironmentVariable("ESTUARY_PROFILE") == "1";

    /// <inheritdoc />
    public string Name => inner.Name;

    /// <inheritdoc />
    public DeviceTensor Allocate(int rows, int cols, DType dtype = DType.F32) => inner.Allocate(rows, cols, dtype);
    /// <inheritdoc />
    public IKvCacheStorage AllocateKvCache(KvCacheSpec spec) => inner.AllocateKvCache(spec);
    /// <inheritdoc />
    public void Upload(ReadOnlySpan<float> src, DeviceTensor dst) => inner.Upload(src, dst);
    /// <inheritdoc />
    public void Download(DeviceTensor src, Span<float> dst) => inner.Download(src, dst);
    /// <inheritdoc />
    public void Embedding(Weight table, ReadOnlySpan<int> ids, DeviceTensor y)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.Embedding(table, ids, y);
        Add("Embedding", t0);
    }
    /// <inheritdoc />
    public void MatMul(DeviceTensor x, Weight w, DeviceTensor y)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.MatMul(x, w, y);
        Add(x.Rows > 16 ? "MatMul (T>16)" : "MatMul (T<=16)", t0, w.Rows, w.Cols);
    }
    /// <inheritdoc />
    public Weight PrepareLinear(Weight w) => inner.PrepareLinear(w);
    /// <inheritdoc />
    public void MatMul(DeviceTensor x, QuantizedWeight w, DeviceTensor y)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.MatMul(x, w, y);
        Add(x.Rows > 16 ? "MatMul quantized (T>16)" : "MatMul quantized (T<=16)", t0, w.Rows, w.Cols);
    }
    /// <inheritdoc />
    public void RmsNorm(DeviceTensor x, Weight gamma, float eps, DeviceTensor y)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.RmsNorm(x, gamma, eps, y);
        Add("RmsNorm", t0);
    }
    /// <inheritdoc />
    public void Add(DeviceTensor x, DeviceTensor y)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.Add(x, y);
        Add("Add", t0);
    }
    /// <inheritdoc />
    public void AddBias(DeviceTensor y, Weight bias)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.AddBias(y, bias);
        Add("AddBias", t0);
    }
    /// <inheritdoc />
    public void RmsNormHeads(DeviceTensor x, int numHeads, Weight gamma, float eps)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.RmsNormHeads(x, numHeads, gamma, eps);
        Add("RmsNormHeads", t0);
    }
    /// <inheritdoc />
    public void SiluMul(DeviceTensor gate, DeviceTensor up, DeviceTensor y)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.SiluMul(gate, up, y);
        Add("SiluMul", t0);
    }
    /// <inheritdoc />
    public void Rope(DeviceTensor x, int numHeads, RopeTable table, ForwardBatch b)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.Rope(x, numHeads, table, b);
        Add("Rope", t0);
    }
    /// <inheritdoc />
    public void WriteKv(DeviceTensor k, DeviceTensor v, KvLayer kv, ForwardBatch b)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.WriteKv(k, v, kv, b);
        Add(k.Rows > 16 ? "WriteKv (T>16)" : "WriteKv (T<=16)", t0);
    }
    /// <inheritdoc />
    public void PagedAttention(DeviceTensor q, KvLayer kv, ForwardBatch b, AttentionParams p, DeviceTensor o)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.PagedAttention(q, kv, b, p, o);
        Add(q.Rows > 16 ? "PagedAttention (T>16)" : "PagedAttention (T<=16)", t0);
    }
    /// <inheritdoc />
    public void GatherRows(DeviceTensor x, ReadOnlySpan<int> rows, DeviceTensor y)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.GatherRows(x, rows, y);
        Add("GatherRows", t0);
    }
    /// <inheritdoc />
    public void ScaleColumns(DeviceTensor y, ReadOnlySpan<float> scales)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.ScaleColumns(y, scales);
        Add("ScaleColumns", t0);
    }
    /// <inheritdoc />
    public void AddRows(DeviceTensor x, ReadOnlySpan<int> rows, float scale, DeviceTensor y)
    {
        long t0 = Stopwatch.GetTimestamp();
        inner.AddRows(x, rows, scale, y);
        Add("AddRows", t0);
    }

    private void Add(string op, long t0, int rows = 0, int cols = 0)
    {
        long now = Stopwatch.GetTimestamp(), dt = now - t0;
        if (_firstStart == 0) _firstStart = t0;
        _lastEnd = now;
        var key = (op, rows, cols);
        _totals[key] = _totals.TryGetValue(key, out var s) ? (s.Ticks + dt, s.Calls + 1) : (dt, 1);
    }

    /// <inheritdoc />
    public bool TryAddLoraDeltas(DeviceTensor x, ReadOnlySpan<int> rows, ReadOnlySpan<LoraSegment> segments, DeviceTensor y)
    {
        long t0 = Stopwatch.GetTimestamp();
        bool done = inner.TryAddLoraDeltas(x, rows, segments, y);
        if (done) Add(x.Rows > 16 ? "LoRA deltas (T>16)" : "LoRA deltas (T<=16)", t0);
        return done;
    }

    /// <summary>Prints the per-operation totals, largest first, then disposes the wrapped backend.</summary>
    public void Dispose()
    {
        double all = _totals.Values.Sum(v => (double)v.Ticks) / Stopwatch.Frequency;
        double span = (double)(_lastEnd - _firstStart) / Stopwatch.Frequency;
        report.WriteLine($"backend time by operation ({all:F2} s in all, {span:F2} s from the first operation's start to the last one's end):");
        foreach (var ((name, rows, cols), (ticks, calls)) in _totals.OrderByDescending(kv => kv.Value.Ticks))
        {
            string op = rows == 0 && cols == 0 ? name : $"{name} [{rows},{cols}]";
            double s = (double)ticks / Stopwatch.Frequency;
            report.WriteLine($"  {op,-18} {s,9:F3} s {100 * s / Math.Max(all, 1e-12),6:F1}% {calls,9} calls");
        }
        inner.Dispose();
    }
}
