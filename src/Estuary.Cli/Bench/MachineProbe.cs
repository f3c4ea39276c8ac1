// Measures the machine's memory copy bandwidth (STREAM convention: bytes read + written per second) and FMA peak (widest vectors), on N threads.
using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace Estuary.Cli.Bench;

/// <summary>Machine speed limits used as the yardsticks of the CPU benchmark.</summary>
internal static class MachineProbe
{
    private const int CopyBytes = 256 << 20;

    private static readonly Lazy<(byte[] Src, byte[] Dst)> CopyBuffers = new(() =>
    {
        var src = GC.AllocateUninitializedArray<byte>(CopyBytes, pinned: true);
        var dst = GC.AllocateUninitializedArray<byte>(CopyBytes, pinned: true);
        src.AsSpan().Fill(1);
        dst.AsSpan().Fill(2);
        return (src, dst);
    });

    /// <summary>Best-of-5 multi-threaded copy bandwidth over 2 × 256 MiB, in bytes/s counting reads and writes.</summary>
    public static double CopyBandwidth(int threads)
    {
        const int bytes = CopyBytes;
        var (src, dst) = CopyBuffers.Value; // allocated and touched once, reused by every round of a benchmark
        double best = 0;
        for (int rep = 0; rep < 5; rep++)
        {
            var sw = Stopwatch.StartNew();
            RunOnThreads(threads, t =>
            {
                int chunk = bytes / threads;
                src.AsSpan(t * chunk, chunk).CopyTo(dst.AsSpan(t * chunk, chunk));
            });
            best = Math.Max(best, 2.0 * bytes / sw.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>Peak single-precision FMA throughput in FLOP/s with the widest vectors the machine accelerates (Vector512 with
    /// AVX-512, else Vector256), 10 independent accumulators per thread.</summary>
    public static double FmaPeak(int threads) => Vector512.IsHardwareAccelerated ? FmaPeak512(threads) : FmaPeak256(threads);

    /// <summary>Peak with Vector256 (8 lanes).</summary>
    public static double FmaPeak256(int threads)
    {
        const long iterations = 40_000_000;
        double best = 0;
        for (int rep = 0; rep < 3; rep++)
        {
            var sw = Stopwatch.StartNew();
            var sink = new float[threads];
            RunOnThreads(threads, t => sink[t] = FmaLoop(iterations));
            double flops = (double)threads * iterations * 10 * 8 * 2;
            best = Math.Max(best, flops / sw.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>Peak with Vector512 (16 lanes); 0 when not accelerated.</summary>
    public static double FmaPeak512(int threads)
    {
        if (!Vector512.IsHardwareAccelerated) return 0;
        const long iterations = 40_000_000;
        double best = 0;
        for (int rep = 0; rep < 3; rep++)
        {
            var sw = Stopwatch.StartNew();
            var sink = new float[threads];
            RunOnThreads(threads, t => sink[t] = FmaLoop512(iterations));
            double flops = (double)threads * iterations * 10 * 16 * 2;
            best = Math.Max(best, flops / sw.Elapsed.TotalSeconds);
        }
        return best;
    }

    private static float FmaLoop512(long iterations)
    {
        var a = Vector512.Create(0.999f);
        var b = Vector512.Create(0.001f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, a, b);
            c1 = Vector512.FusedMultiplyAdd(c1, a, b);
            c2 = Vector512.FusedMultiplyAdd(c2, a, b);
            c3 = Vector512.FusedMultiplyAdd(c3, a, b);
            c4 = Vector512.FusedMultiplyAdd(c4, a, b);
            c5 = Vector512.FusedMultiplyAdd(c5, a, b);
            c6 = Vector512.FusedMultiplyAdd(c6, a, b);
            c7 = Vector512.FusedMultiplyAdd(c7, a, b);
            c8 = Vector512.FusedMultiplyAdd(c8, a, b);
            c9 = Vector512.FusedMultiplyAdd(c9, a, b);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9);
    }

    // Hot loop: 10 dependent chains hide the FMA latency (4–5 cycles × 2 ports).
    private static float FmaLoop(long iterations)
    {
        var a = Vector256.Create(0.999f);
        var b = Vector256.Create(0.001f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, a, b);
            c1 = Vector256.FusedMultiplyAdd(c1, a, b);
            c2 = Vector256.FusedMultiplyAdd(c2, a, b);
            c3 = Vector256.FusedMultiplyAdd(c3, a, b);
            c4 = Vector256.FusedMultiplyAdd(c4, a, b);
            c5 = Vector256.FusedMultiplyAdd(c5, a, b);
            c6 = Vector256.FusedMultiplyAdd(c6, a, b);
            c7 = Vector256.FusedMultiplyAdd(c7, a, b);
            c8 = Vector256.FusedMultiplyAdd(c8, a, b);
            c9 = Vector256.FusedMultiplyAdd(c9, a, b);
        }
        var sum = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9;
        return Vector256.Sum(sum);
    }

    private static void RunOnThreads(int threads, Action<int> body)
    {
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int id = t;
            workers[t] = new Thread(() => body(id));
            workers[t].Start();
        }
        foreach (var w in workers) w.Join();
    }
}
