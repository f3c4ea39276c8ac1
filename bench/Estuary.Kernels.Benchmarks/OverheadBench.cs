// Per-call cost of a decode step's small operations (T = 1, TinyLlama's shapes), each call after ~18 µs of work on the calling
// thread alone, as between a real step's operations (the workers are idle by then). With 2 threads the worker pool's spin-then-block
// waits run with their spin budget and without it (SpinTicks = 0: block at once), alternating round by round; 1 thread for reference.
using System.Diagnostics;
using Estuary.Backend.Cpu;
using Estuary.Backend.Cpu.Threading;
using Estuary.Tensors;
using Estuary.Tensors.Quantization;

namespace Estuary.Kernels.Benchmarks;

internal static class OverheadBench
{
    public static IEnumerable<(string Name, string Value)> Run(CpuBackend cpu, CpuBackend cpu1)
    {
        const int Keys = 64, Heads = 32, KvHeads = 4, D = 64, Bs = 16, Calls = 2000, Rounds = 7;
        int blocks = Keys / Bs;
        var p = new AttentionParams(Heads, KvHeads, D, 1f / MathF.Sqrt(D));
        var b = new ForwardBatch(1, 1, blocks, Bs) { NumSeqs = 1, NumTokens = 1 };
        b.QueryStarts[0] = 0; b.QueryStarts[1] = 1; b.SeqLens[0] = Keys; b.Positions[0] = Keys - 1;
        for (int i = 0; i < blocks; i++) b.BlockTables[i] = i;
        var raw = Bench.Weight(256, 2048, DType.BF16);
        var int4 = QuantBench.Weight(QuantScheme.Int4Group, 256, 2048);
        var gamma = Bench.Weight(1, 2048, DType.F32);
        var busy = new float[4096];
        void Busy() { for (int i = 0; i < 6; i++) for (int j = 0; j < busy.Length; j++) busy[j] = busy[j] * 0.999f + 0.001f; }
        long spinTicks = WorkerPool.SpinTicks;
        foreach (var (backend, threads) in new[] { (cpu, cpu.NumThreads), (cpu1, 1) })
        {
            using var cache = backend.AllocateKvCache(new KvCacheSpec(1, blocks, Bs, KvHeads, D, DType.F32));
            var w = backend.PrepareLinear(raw);
            var gate = backend.Allocate(1, 5632); var up = backend.Allocate(1, 5632); var act = backend.Allocate(1, 5632);
            var h = backend.Allocate(1, 2048); var normed = backend.Allocate(1, 2048); var kv = backend.Allocate(1, 256);
            var q = backend.Allocate(1, Heads * D); var o = backend.Allocate(1, Heads * D);
            var ops = new (string Name, Action Call)[]
            {
                ("SiluMul [1,5632]", () => backend.SiluMul(gate, up, act)),
                ("RmsNorm [1,2048]", () => backend.RmsNorm(h, gamma, 1e-5f, normed)),
                ("PagedAttention T=1, 64 keys, 32/4 heads × 64", () => backend.PagedAttention(q, new KvLayer(cache, 0), b, p, o)),
                ("MatMul BF16 w[256,2048] T=1", () => backend.MatMul(h, w, kv)),
                ("MatMul INT4 w[256,2048] T=1", () => backend.MatMul(h, int4, kv)),
            };
            foreach (var (name, call) in ops)
            {
                var spins = threads > 1 ? new[] { true, false } : [true];
                var best = spins.ToDictionary(s => s, _ => double.MaxValue);
                for (int r = 0; r < Rounds; r++)
                    foreach (bool spin in spins)
                    {
                        WorkerPool.SpinTicks = spin ? spinTicks : 0;
                        long ticks = 0;
                        for (int i = 0; i < Calls; i++)
                        {
                            Busy();
                            long t0 = Stopwatch.GetTimestamp();
                            call();
                            ticks += Stopwatch.GetTimestamp() - t0;
                        }
                        best[spin] = Math.Min(best[spin], (double)ticks / Stopwatch.Frequency / Calls);
                    }
                WorkerPool.SpinTicks = spinTicks;
                string value = threads > 1 ? $"{best[true] * 1e6:F2}; {best[false] * 1e6:F2}" : $"{best[true] * 1e6:F2}";
                string label = threads > 1 ? $"{threads} threads (µs per call, best round: spin then block; block at once)" : "1 thread (µs per call)";
                yield return ($"overhead: {name} after caller-only work, {label}", value);
            }
            if (!ReferenceEquals(w, raw)) w.Storage.Dispose(); // the interleaved copy
        }
        raw.Storage.Dispose();
        gamma.Storage.Dispose();
    }
}
