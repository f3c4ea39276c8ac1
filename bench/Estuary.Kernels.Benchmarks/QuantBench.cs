// Measurement helpers for quantized MatMul: random quantized weights, enough copies to stream from DRAM, best-of timing.
using System.Diagnostics;
using Estuary.Backend.Cpu;
using Estuary.Tensors.Quantization;

namespace Estuary.Kernels.Benchmarks;

/// <summary>Quantized-weight microbenchmarks.</summary>
internal static class QuantBench
{
    /// <summary>A random [n, k] quantized weight (INT4 with groups of 128).</summary>
    public static QuantizedWeight Weight(QuantScheme scheme, int n, int k)
    {
        var rng = new Random(1);
        var w = new QuantizedWeight("bench", scheme, n, k, 128);
        var q8 = new sbyte[k];
        var q4 = new byte[k];
        var s = new float[w.NumGroups];
        var z = new byte[w.NumGroups];
        for (int r = 0; r < n; r++)
        {
            if (scheme == QuantScheme.Int8PerChannel)
            {
                for (int i = 0; i < k; i++) q8[i] = (sbyte)rng.Next(-127, 128);
                w.SetRowInt8(r, q8, (float)(Half)0.01f);
                continue;
            }
            for (int i = 0; i < k; i++) q4[i] = (byte)rng.Next(16);
            for (int g = 0; g < s.Length; g++) { s[g] = (float)(Half)0.01f; z[g] = (byte)rng.Next(16); }
            w.SetRowInt4(r, q4, s, z);
        }
        return w;
    }

    /// <summary>Enough copies of one random weight to cover about 384 MiB (each filled the same way).</summary>
    public static QuantizedWeight[] Copies(QuantScheme scheme, int n, int k)
    {
        var first = Weight(scheme, n, k);
        int count = (int)Math.Max(1, (384L << 20) / first.ByteLength);
        var all = new QuantizedWeight[count];
        all[0] = first;
        for (int i = 1; i < count; i++) all[i] = CopyOf(first);
        return all;
    }

    /// <summary>Best time of MatMul with T tokens, cycling through the copies.</summary>
    public static double MatMulSeconds(CpuBackend cpu, QuantizedWeight[] ws, int tokens) =>
        Bench.BestMatMulSeconds(cpu, ws[0].Rows, ws[0].Cols, ws.Length, tokens, (x, i, y) => cpu.MatMul(x, ws[i], y));

    // Same integers and scales in new memory (a bench-only raw copy of the packed buffers).
    public static unsafe QuantizedWeight CopyOf(QuantizedWeight w)
    {
        var c = new QuantizedWeight(w.Name, w.Scheme, w.Rows, w.Cols, w.GroupSize);
        long bytes = w.PaddedRows / QuantizedWeight.BlockRows * w.BlockBytes;
        Buffer.MemoryCopy((void*)w.Data, (void*)c.Data, bytes, bytes);
        if (w.Scheme == QuantScheme.Int8PerChannel)
        {
            Buffer.MemoryCopy((void*)w.ScalesPointer, (void*)c.ScalesPointer, 4L * w.PaddedRows, 4L * w.PaddedRows);
            return c;
        }
        long entries = (long)w.PaddedRows * w.NumGroups;
        Buffer.MemoryCopy((void*)w.ScalesPointer, (void*)c.ScalesPointer, 4 * entries, 4 * entries); // F32 scales
        Buffer.MemoryCopy((void*)w.ZerosPointer, (void*)c.ZerosPointer, entries, entries);
        return c;
    }
}
