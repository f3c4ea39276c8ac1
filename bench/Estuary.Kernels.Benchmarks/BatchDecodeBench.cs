// Batched-decode matmul (T = 16, llama-110m's shapes) against the FMA peak, cases alternating round by round in one process:
// weights cold (cycled copies, streamed from DRAM) and warm, 2 threads and 1, and two independent 1-thread calls at once (what
// the hardware gives two threads that share nothing but the machine).
using System.Diagnostics;
using Estuary.Backend.Cpu;
using Estuary.Tensors;

namespace Estuary.Kernels.Benchmarks;

internal static class BatchDecodeBench
{
    public static List<(string Name, string Value)> Run(int tokens = 16, int rounds = 9)
    {
        using var cpu1 = new CpuBackend(1);
        using var cpu2 = new CpuBackend(2);
        var cases = new List<(string Name, double Flops, Action Run, List<double> Times)>
        {
            ("FMA peak Vector512, 1 thread", 1e9, () => Bench.Fma512GigaFlop(), []),
            ("FMA peak Vector512, 2 threads", 2e9, () => Parallel.For(0, 2, _ => Bench.Fma512GigaFlop()), []),
        };
        var owned = new List<Weight>();
        var extra = new List<CpuBackend>();
        foreach (var (n, k) in new[] { (2048, 768), (768, 768), (768, 2048), (32000, 768) })
        {
            var raw = Bench.Weight(n, k, DType.BF16);
            owned.Add(raw);
            var copies = new Weight[(int)Math.Max(2, (512L << 20) / raw.ByteLength)];
            for (int i = 0; i < copies.Length; i++) owned.Add(copies[i] = cpu1.PrepareLinear(raw));
            var x = cpu1.Allocate(tokens, k);
            var y = cpu1.Allocate(tokens, n);
            var data = new float[tokens * k];
            for (int i = 0; i < data.Length; i++) data[i] = (i % 7) * 0.1f - 0.3f;
            cpu1.Upload(data, x);
            double flops = 2.0 * tokens * n * k;
            int next = 0;
            string shape = $"T={tokens} w[{n},{k}]";
            // Four calls per timing so short shapes are not all timer and dispatch.
            cases.Add(($"{shape} cold, 2 threads", 4 * flops, () => { for (int i = 0; i < 4; i++) cpu2.MatMul(x, copies[next++ % copies.Length], y); }, []));
            cases.Add(($"{shape} warm, 2 threads", 4 * flops, () => { for (int i = 0; i < 4; i++) cpu2.MatMul(x, copies[0], y); }, []));
            var cpu1b = new CpuBackend(1);
            var xb = cpu1b.Allocate(tokens, k); cpu1b.Upload(data, xb);
            var yb = cpu1b.Allocate(tokens, n);
            int nextB = copies.Length / 2;
            cases.Add(($"{shape} cold, 1 thread", 4 * flops, () => { for (int i = 0; i < 4; i++) cpu1.MatMul(x, copies[next++ % copies.Length], y); }, []));
            cases.Add(($"{shape} warm, 1 thread", 4 * flops, () => { for (int i = 0; i < 4; i++) cpu1.MatMul(x, copies[0], y); }, []));
            cases.Add(($"{shape} cold, two 1-thread calls at once on other weights (2 threads)", 8 * flops, () => Parallel.Invoke(
                () => { for (int i = 0; i < 4; i++) cpu1.MatMul(x, copies[next++ % copies.Length], y); },
                () => { for (int i = 0; i < 4; i++) cpu1b.MatMul(xb, copies[nextB++ % copies.Length], yb); }), []));
            extra.Add(cpu1b);
        }
        for (int r = 0; r < rounds; r++)
            foreach (var c in cases)
            {
                var sw = Stopwatch.StartNew();
                c.Run();
                c.Times.Add(sw.Elapsed.TotalSeconds);
            }
        foreach (var w in owned) w.Storage.Dispose();
        foreach (var b in extra) b.Dispose();
        double peak1 = cases[0].Flops / cases[0].Times.Min(), peak2 = cases[1].Flops / cases[1].Times.Min();
        return cases.Select(c =>
        {
            double best = c.Flops / c.Times.Min(), median = c.Flops / c.Times.Order().ElementAt(c.Times.Count / 2);
            string of = c.Name.StartsWith("FMA", StringComparison.Ordinal) ? "" : $" ({100 * best / (c.Name.Contains("2 threads") ? peak2 : peak1):F0}% of peak)";
            return ($"batch decode: {c.Name} (GFLOP/s best{of}; median)", $"{best / 1e9:F1}; {median / 1e9:F1}");
        }).ToList();
    }
}
