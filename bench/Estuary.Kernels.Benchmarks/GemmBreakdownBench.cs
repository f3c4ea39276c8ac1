// Prefill GEMM against its ceilings, every case alternating round by round in one process (the machine's speed drifts between
// runs, not between neighbouring rounds): the packed MatMul with 2 threads and 1, the same loop nest with the panel never widened
// (the micro-kernel over real x and y, 1 thread), and the Vector512 FMA peak with 1 and 2 threads; best and median of the rounds.
using System.Diagnostics;
using System.Runtime.InteropServices;
using Estuary.Backend.Cpu;
using Estuary.Backend.Cpu.Kernels;
using Estuary.Tensors;

namespace Estuary.Kernels.Benchmarks;

internal static unsafe class GemmBreakdownBench
{
    private sealed class Case(string name, double flops, Action run)
    {
        public string Name { get; } = name;
        public double Flops { get; } = flops;
        public Action Run { get; } = run;
        public double Best { get; set; } = double.MaxValue;
        public List<double> All { get; } = [];
    }

    public static List<(string Name, string Value)> Run(int rounds = 10)
    {
        const int T = 512, PanelK = 128, PanelFloats = 4 * (PanelK * 16 + 16);
        using var cpu1 = new CpuBackend(1);
        using var cpu2 = new CpuBackend(2);
        var cases = new List<Case>
        {
            new("FMA peak Vector512, 1 thread", 1e9, () => Bench.Fma512GigaFlop()),
            new("FMA peak Vector512, 2 threads", 2e9, () => Parallel.For(0, 2, _ => Bench.Fma512GigaFlop())),
        };
        var owned = new List<nint>();
        var weights = new List<Weight>();
        foreach (var (n, k) in new[] { (2048, 2048), (5632, 2048), (2048, 5632) })
        {
            var raw = Bench.Weight(n, k, DType.BF16);
            var w = cpu1.PrepareLinear(raw);
            weights.Add(raw); weights.Add(w);
            var x = cpu1.Allocate(T, k);
            var y = cpu1.Allocate(T, n);
            var data = new float[T * k];
            for (int i = 0; i < data.Length; i++) data[i] = (i % 7) * 0.1f - 0.3f;
            cpu1.Upload(data, x);
            float* panel = (float*)NativeMemory.AlignedAlloc(PanelFloats * sizeof(float), 64);
            float* xs = (float*)NativeMemory.AlignedAlloc((nuint)((long)T * k * sizeof(float)), 64);
            float* ys = (float*)NativeMemory.AlignedAlloc((nuint)((long)T * n * sizeof(float)), 64);
            owned.Add((nint)panel); owned.Add((nint)xs); owned.Add((nint)ys);
            for (int i = 0; i < PanelFloats; i++) panel[i] = 0.001f * (i % 7);
            for (long i = 0; i < (long)T * k; i++) xs[i] = data[i];
            double flops = 2.0 * T * n * k;
            string shape = $"T={T} w[{n},{k}]";
            // Cold: each call takes the next of enough prepared copies (≥ 1 GiB, more than the last-level cache) to stream from DRAM.
            var cold = new Weight[(int)Math.Max(2, (1L << 30) / w.ByteLength)];
            for (int i = 0; i < cold.Length; i++) cold[i] = cpu1.PrepareLinear(raw);
            weights.AddRange(cold);
            int next = 0;
            cases.Add(new($"packed MatMul {shape}, 2 threads", flops, () => cpu2.MatMul(x, w, y)));
            cases.Add(new($"packed MatMul {shape}, 2 threads, weights from DRAM", flops, () => cpu2.MatMul(x, cold[next++ % cold.Length], y)));
            cases.Add(new($"packed MatMul {shape}, 1 thread", flops, () => cpu1.MatMul(x, w, y)));
            cases.Add(new($"  micro-kernel alone over its x and y (panel never widened), 1 thread", flops, () => TilesOnly(panel, xs, ys, T, n, k)));
        }
        for (int round = 0; round < rounds; round++)
            foreach (var c in cases)
            {
                var sw = Stopwatch.StartNew();
                c.Run();
                c.Best = Math.Min(c.Best, sw.Elapsed.TotalSeconds);
                c.All.Add(sw.Elapsed.TotalSeconds);
            }
        foreach (var p in owned) NativeMemory.AlignedFree((void*)p);
        foreach (var w in weights) w.Storage.Dispose();
        double peak1 = cases[0].Flops / cases[0].Best, peak2 = cases[1].Flops / cases[1].Best;
        return cases.Select(c =>
        {
            double rate = c.Flops / c.Best;
            string of = c.Name.StartsWith("FMA", StringComparison.Ordinal) ? "" : $" ({100 * rate / (c.Name.Contains("2 threads") ? peak2 : peak1):F0}% of peak)";
            double median = c.All.Order().ElementAt(c.All.Count / 2);
            return ($"gemm: {c.Name} (GFLOP/s; median)", $"{rate / 1e9:F1}{of}; {c.Flops / median / 1e9:F1}  {c.Best * 1e3:F2} ms");
        }).ToList();
    }

    // The blocked regime's loop nest (128-token blocks, output units of 4 blocks, 128-k slices) with a fixed F32 panel.
    private static void TilesOnly(float* panel, float* x, float* y, int t, int n, int k)
    {
        const int PanelK = 128;
        nint pbs = (PanelK * 16 + 16) * sizeof(float);
        for (int t0 = 0; t0 < t; t0 += 128)
            for (int u = 0; u < n / 64; u++)
                for (int k0 = 0; k0 < k; k0 += PanelK)
                    PackedMatMulKernel.Tiles4x512<F32Load>(x + (nint)t0 * k, k, Math.Min(128, t - t0), (byte*)(panel - (nint)k0 * 16), pbs,
                        y + (nint)t0 * n + u * 64, n, k0, k0 + PanelK, k0 > 0);
    }
}
