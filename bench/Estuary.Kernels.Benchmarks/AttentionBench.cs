// Decode attention microbenchmark: 16 sequences × one query row at 640 keys of context, llama-110m's heads (12 × 64), block size
// 16, block ids shuffled over the cache as a running server leaves them; 12 layers cycled so the KV cache streams from memory.
using System.Diagnostics;
using Estuary.Backend.Cpu;
using Estuary.Tensors;

namespace Estuary.Kernels.Benchmarks;

internal static class AttentionBench
{
    public static IEnumerable<(string Name, string Value)> Run(CpuBackend cpu, CpuBackend cpu1)
    {
        const int Seqs = 16, Keys = 640, Heads = 12, D = 64, Bs = 16, Layers = 12, Rounds = 7;
        int blocksPerSeq = Keys / Bs, numBlocks = Seqs * blocksPerSeq;
        var p = new AttentionParams(Heads, Heads, D, 1f / MathF.Sqrt(D));
        var rng = new Random(5);
        var perm = Enumerable.Range(0, numBlocks).OrderBy(_ => rng.Next()).ToArray();
        var b = new ForwardBatch(Seqs, Seqs, blocksPerSeq, Bs) { NumSeqs = Seqs, NumTokens = Seqs };
        for (int s = 0; s < Seqs; s++)
        {
            b.QueryStarts[s] = s;
            b.SeqLens[s] = Keys;
            b.Positions[s] = Keys - 1;
            for (int i = 0; i < blocksPerSeq; i++) b.BlockTables[s * blocksPerSeq + i] = perm[s * blocksPerSeq + i];
        }
        b.QueryStarts[Seqs] = Seqs;
        var qData = new float[Seqs * Heads * D];
        for (int i = 0; i < qData.Length; i++) qData[i] = (float)(rng.NextDouble() - 0.5);
        foreach (var dtype in new[] { DType.F32, DType.BF16, DType.I8 })
        {
            using var cache = (CpuKvCacheStorage)cpu.AllocateKvCache(new KvCacheSpec(Layers, numBlocks, Bs, Heads, D, dtype));
            var fill = new float[numBlocks * Bs * Heads * D];
            for (int i = 0; i < fill.Length; i++) fill[i] = (float)(rng.NextDouble() - 0.5);
            for (int l = 0; l < Layers; l++) cache.Fill(l, fill, fill);
            double bytes = 2.0 * Seqs * Keys * Heads * (D * dtype.SizeOf() + (dtype == DType.I8 ? 4 : 0)); // K and V (and I8 scales) read per call
            foreach (var (backend, label) in new[] { (cpu, $"{cpu.NumThreads} threads"), (cpu1, "1 thread") })
            {
                var q = backend.Allocate(Seqs, Heads * D);
                var o = backend.Allocate(Seqs, Heads * D);
                backend.Upload(qData, q);
                var times = new List<double>();
                for (int r = 0; r < Rounds; r++)
                {
                    var sw = Stopwatch.StartNew();
                    for (int l = 0; l < Layers; l++) backend.PagedAttention(q, new KvLayer(cache, l), b, p, o);
                    times.Add(sw.Elapsed.TotalSeconds / Layers);
                }
                times.Sort();
                double t = times[Rounds / 2];
                yield return ($"decode attention {dtype} KV, 16 × 640 keys, 12 × 64, {label} (ms per layer; GB/s of K+V)", $"{t * 1e3:F3}; {bytes / t / 1e9:F1}");
            }
        }
    }
}
