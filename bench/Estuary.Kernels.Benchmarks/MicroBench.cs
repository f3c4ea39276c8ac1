// Micro-kernel ceiling: PackedMatMulKernel.Micro4x512 on L1-resident F32 panels (4 blocks × 128 k) and 6 token rows, k in [0, 128),
// repeated; GFLOP/s against the Vector512 FMA peak of one thread.
using System.Diagnostics;
using Estuary.Backend.Cpu.Kernels;

namespace Estuary.Kernels.Benchmarks;

internal static unsafe class MicroBench
{
    public static List<(string Name, string Value)> Run()
    {
        const int K = 128, Reps = 200_000;
        float* panel = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(4 * (K * 16 + 16) * 4, 64);
        float* x = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(6 * 2048 * 4, 64);
        float* y = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(6 * 2048 * 4, 64);
        for (int i = 0; i < 4 * (K * 16 + 16); i++) panel[i] = 0.001f * (i % 7);
        for (int i = 0; i < 6 * 2048; i++) { x[i] = 0.01f * (i % 5); y[i] = 0; }
        nint bs = (K * 16 + 16) * 4;
        var best = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            var sw = Stopwatch.StartNew();
            for (int r = 0; r < Reps; r++)
                PackedMatMulKernel.Micro4x512<F32Load, Tokens6>(x, 2048, (byte*)panel, bs, y, 2048, 0, K, accumulate: true);
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        double flops = 2.0 * 6 * 64 * K * Reps;
        var rows = new List<(string, string)> { ("micro 4×512 × 6 tokens, F32 panel in L1, k 128, 1 thread (GFLOP/s)", $"{flops / best / 1e9:F1}") };
        foreach (int ldx in new[] { 2048, 144, 768, 5632 })
        {
            float* xs = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(128 * ldx * 4), 64);
            float* ys = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(128 * 2048 * 4, 64);
            for (int i = 0; i < 128 * ldx; i++) xs[i] = 0.01f * (i % 5);
            for (int i = 0; i < 128 * 2048; i++) ys[i] = 0;
            best = double.MaxValue;
            int reps = Reps / 20;
            for (int round = 0; round < 5; round++)
            {
                var sw = Stopwatch.StartNew();
                for (int r = 0; r < reps; r++)
                    PackedMatMulKernel.Tiles4x512<F32Load>(xs, ldx, 128, (byte*)panel, bs, ys, 2048, 0, K, accumulate: true);
                best = Math.Min(best, sw.Elapsed.TotalSeconds);
            }
            flops = 2.0 * 128 * 64 * K * reps;
            rows.Add(($"tiles 4×512 × 128 tokens, ldx {ldx}, y ld 2048, 1 thread (GFLOP/s)", $"{flops / best / 1e9:F1}"));
            System.Runtime.InteropServices.NativeMemory.AlignedFree(xs);
            System.Runtime.InteropServices.NativeMemory.AlignedFree(ys);
        }
        System.Runtime.InteropServices.NativeMemory.AlignedFree(panel);
        System.Runtime.InteropServices.NativeMemory.AlignedFree(x);
        System.Runtime.InteropServices.NativeMemory.AlignedFree(y);
        float[] srow = new float[256];
        for (int i = 0; i < 256; i++) srow[i] = (float)Math.Sin(i) * 3;
        float[] work = new float[256];
        best = double.MaxValue;
        float sink = 0;
        for (int round = 0; round < 5; round++)
        {
            var sw = Stopwatch.StartNew();
            for (int r = 0; r < 20000; r++)
            {
                srow.CopyTo(work, 0);
                float m = VectorMath.Max(ref work[0], 256, true);
                sink += VectorMath.ExpShiftSum(ref work[0], 256, m, true);
            }
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        rows.Add(("softmax row of 256 (copy, max, exp-sum), 1 thread (ns per element)", $"{best / 20000 / 256 * 1e9:F2} ({sink > 0})"));
        foreach (var part in new[] { "max", "exp", "copy" })
        {
            best = double.MaxValue;
            for (int round = 0; round < 5; round++)
            {
                var sw = Stopwatch.StartNew();
                for (int r = 0; r < 20000; r++)
                {
                    if (part == "copy") srow.CopyTo(work, 0);
                    else if (part == "max") sink += VectorMath.Max(ref srow[0], 256, true);
                    else { srow.CopyTo(work, 0); sink += VectorMath.ExpShiftSum(ref work[0], 256, 3f, true); }
                }
                best = Math.Min(best, sw.Elapsed.TotalSeconds);
            }
            rows.Add(($"  {part}, ns per element", $"{best / 20000 / 256 * 1e9:F2}"));
        }
        return rows;
    }
}
