// A decode step's linear layers in model order: 22 TinyLlama-1.1B layers (q, k, v, o, gate, up, down; distinct weights, streamed
// from DRAM as in the model), T = 1, for BF16, INT8 and INT4 — the matmul part of a token without the rest of the model.
using System.Diagnostics;
using Estuary.Backend.Cpu;
using Estuary.Tensors;
using Estuary.Tensors.Quantization;

namespace Estuary.Kernels.Benchmarks;

/// <summary>Per-token time of all decode matmuls of a TinyLlama-shaped model, by weight format.</summary>
internal static class LayerMixBench
{
    private static readonly (int N, int K)[] LayerShapes = [(2048, 2048), (256, 2048), (256, 2048), (2048, 2048), (5632, 2048), (5632, 2048), (2048, 5632)];
    private const int Layers = 22;

    /// <summary>Rows for the results table: best and median ms per token of each format, alternated round by round.</summary>
    public static IEnumerable<(string, string)> Run(CpuBackend cpu, int rounds)
    {
        var formats = new (string Name, Action[] Calls, Action Dispose)[]
        {
            Float(cpu), Quantized(cpu, QuantScheme.Int8PerChannel), Quantized(cpu, QuantScheme.Int4Group),
        };
        var times = formats.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < rounds; round++)
        {
            for (int f = 0; f < formats.Length; f++)
            {
                var sw = Stopwatch.StartNew();
                foreach (var call in formats[f].Calls) call();
                times[f].Add(sw.Elapsed.TotalSeconds);
            }
        }
        var stats = times.Select(t => (Best: t.Min(), Median: t.Order().ElementAt(t.Count / 2))).ToArray();
        for (int f = 0; f < formats.Length; f++)
        {
            var (best, median) = stats[f];
            yield return ($"layers: {formats[f].Name} decode matmuls of 22 layers, T=1 (ms per token: best; median)",
                $"{best * 1e3:F2}; {median * 1e3:F2}  ({stats[0].Best / best:F2}x; {stats[0].Median / median:F2}x BF16)");
            formats[f].Dispose();
        }
    }

    private static (string, Action[], Action) Float(CpuBackend cpu)
    {
        var protos = LayerShapes.Select(s => Bench.Weight(s.N, s.K, DType.BF16)).ToArray();
        var all = new List<Weight>();
        var calls = new List<Action>();
        for (int l = 0; l < Layers; l++)
        {
            foreach (var p in protos)
            {
                var w = cpu.PrepareLinear(p); // a fresh interleaved copy per layer
                all.Add(w);
                var (xw, yw) = Buffers(cpu, w.Cols, w.Rows);
                calls.Add(() => cpu.MatMul(xw, w, yw));
            }
        }
        return ("BF16", calls.ToArray(), () => { foreach (var w in all) w.Storage.Dispose(); foreach (var p in protos) p.Storage.Dispose(); });
    }

    private static (string, Action[], Action) Quantized(CpuBackend cpu, QuantScheme scheme)
    {
        var protos = LayerShapes.Select(s => QuantBench.Weight(scheme, s.N, s.K)).ToArray();
        var calls = new List<Action>();
        for (int l = 0; l < Layers; l++)
        {
            foreach (var p in protos)
            {
                var w = QuantBench.CopyOf(p);
                var (xw, yw) = Buffers(cpu, w.Cols, w.Rows);
                calls.Add(() => cpu.MatMul(xw, w, yw));
            }
        }
        return (scheme == QuantScheme.Int8PerChannel ? "INT8" : "INT4", calls.ToArray(), () => { });
    }

    private static readonly Dictionary<(int, int), (DeviceTensor, DeviceTensor)> BufferCache = [];

    // One input [1, K] (a smooth pattern) and output [1, N] per shape.
    private static (DeviceTensor, DeviceTensor) Buffers(CpuBackend cpu, int k, int n)
    {
        if (BufferCache.TryGetValue((k, n), out var b)) return b;
        var x = cpu.Allocate(1, k);
        cpu.Upload(Enumerable.Range(0, k).Select(i => (i % 7) * 0.1f - 0.3f).ToArray(), x);
        b = (x, cpu.Allocate(1, n));
        BufferCache[(k, n)] = b;
        return b;
    }
}
