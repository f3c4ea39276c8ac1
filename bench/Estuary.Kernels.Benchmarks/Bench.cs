// The measurement routines of the benchmark app; each warms up, then reports the best of several timed repetitions.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Estuary.Backend.Cpu;
using Estuary.Tensors;

namespace Estuary.Kernels.Benchmarks;

/// <summary>Stopwatch microbenchmarks.</summary>
internal static class Bench
{
    /// <summary>Large buffer copy; counts bytes read plus bytes written.</summary>
    public static double MemcpyGBs(int bytes)
    {
        var a = GC.AllocateUninitializedArray<byte>(bytes, pinned: true);
        var b = GC.AllocateUninitializedArray<byte>(bytes, pinned: true);
        a.AsSpan().Fill(1);
        b.AsSpan().Fill(2);
        double best = double.MaxValue;
        for (int r = 0; r < 6; r++)
        {
            var sw = Stopwatch.StartNew();
            a.AsSpan().CopyTo(b);
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return 2.0 * bytes / best / 1e9;
    }

    /// <summary>Vector256 sum over a large buffer, split across threads: the bound for weight streaming.</summary>
    public static double ReadGBs(int bytes, int threads)
    {
        var a = GC.AllocateUninitializedArray<float>(bytes / 4, pinned: true);
        a.AsSpan().Fill(1);
        double best = double.MaxValue;
        float sink = 0;
        for (int r = 0; r < 6; r++)
        {
            var sw = Stopwatch.StartNew();
            var parts = new float[threads];
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            {
                int len = a.Length / threads;
                parts[i] = Sum(a.AsSpan(i * len, len));
            });
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
            sink += parts.Sum();
        }
        GC.KeepAlive(sink);
        return bytes / best / 1e9;
    }

    private static float Sum(ReadOnlySpan<float> s)
    {
        ref float p = ref MemoryMarshal.GetReference(s);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        nuint n = (nuint)s.Length & ~(nuint)31;
        for (nuint i = 0; i < n; i += 32)
        {
            a0 += Vector256.LoadUnsafe(ref p, i);
            a1 += Vector256.LoadUnsafe(ref p, i + 8);
            a2 += Vector256.LoadUnsafe(ref p, i + 16);
            a3 += Vector256.LoadUnsafe(ref p, i + 24);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3);
    }

    /// <summary>Independent FMA chains (12 accumulators cover latency × pipes) on each thread.</summary>
    public static double FmaPeakGFlops(int threads)
    {
        const long iters = 100_000_000;
        FmaLoop(1000);
        double best = double.MaxValue;
        for (int r = 0; r < 3; r++)
        {
            var sw = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => FmaLoop(iters));
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return threads * iters * 12 * 16 / best / 1e9;
    }

    /// <summary>Vector512 FMA chains (12 accumulators) on each thread; 0 where AVX-512 is not accelerated.</summary>
    public static double FmaPeak512GFlops(int threads)
    {
        if (!Vector512.IsHardwareAccelerated) return 0;
        const long iters = 100_000_000;
        Fma512Loop(1000);
        double best = double.MaxValue;
        for (int r = 0; r < 3; r++)
        {
            var sw = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, _ => Fma512Loop(iters));
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return threads * iters * 12 * 32 / best / 1e9;
    }

    /// <summary>10⁹ flops of independent Vector512 FMA chains on the calling thread.</summary>
    public static float Fma512GigaFlop() => Fma512Loop(1_000_000_000 / 384);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Fma512Loop(long iters)
    {
        var m = Vector512.Create(0.999999f);
        var c = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < iters; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c); a1 = Vector512.FusedMultiplyAdd(a1, m, c); a2 = Vector512.FusedMultiplyAdd(a2, m, c);
            a3 = Vector512.FusedMultiplyAdd(a3, m, c); a4 = Vector512.FusedMultiplyAdd(a4, m, c); a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c); a7 = Vector512.FusedMultiplyAdd(a7, m, c); a8 = Vector512.FusedMultiplyAdd(a8, m, c);
            a9 = Vector512.FusedMultiplyAdd(a9, m, c); a10 = Vector512.FusedMultiplyAdd(a10, m, c); a11 = Vector512.FusedMultiplyAdd(a11, m, c);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float FmaLoop(long iters)
    {
        var m = Vector256.Create(0.999999f);
        var c = Vector256.Create(1e-7f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < iters; i++)
        {
            a0 = Fma.MultiplyAdd(a0, m, c); a1 = Fma.MultiplyAdd(a1, m, c); a2 = Fma.MultiplyAdd(a2, m, c);
            a3 = Fma.MultiplyAdd(a3, m, c); a4 = Fma.MultiplyAdd(a4, m, c); a5 = Fma.MultiplyAdd(a5, m, c);
            a6 = Fma.MultiplyAdd(a6, m, c); a7 = Fma.MultiplyAdd(a7, m, c); a8 = Fma.MultiplyAdd(a8, m, c);
            a9 = Fma.MultiplyAdd(a9, m, c); a10 = Fma.MultiplyAdd(a10, m, c); a11 = Fma.MultiplyAdd(a11, m, c);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    /// <summary>A random [n, k] weight in <paramref name="dtype"/>.</summary>
    public static unsafe Weight Weight(int n, int k, DType dtype)
    {
        long count = (long)n * k;
        var storage = new NativeWeightStorage(count * dtype.SizeOf());
        var rng = new Random(1);
        for (long i = 0; i < count; i++)
        {
            float v = (float)(rng.NextDouble() - 0.5);
            if (dtype == DType.F32) ((float*)storage.Pointer)[i] = v;
            else if (dtype == DType.BF16) ((ushort*)storage.Pointer)[i] = (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16);
            else ((Half*)storage.Pointer)[i] = (Half)v;
        }
        return new Weight("bench", dtype, new Shape(n, k), storage, 0);
    }

    /// <summary>
    /// Best time of MatMul with T tokens. Calls cycle through <paramref name="ws"/> (copies of one shape) so that with enough copies
    /// every call streams its weight from DRAM instead of finding it in the last-level cache.
    /// </summary>
    public static double MatMulSeconds(CpuBackend cpu, Weight[] ws, int tokens) =>
        BestMatMulSeconds(cpu, ws[0].Rows, ws[0].Cols, ws.Length, tokens, (x, i, y) => cpu.MatMul(x, ws[i], y));

    /// <summary>Best time of <paramref name="matMul"/>(x [T, cols], copy index, y [T, rows]), cycling through <paramref name="copies"/> copies.</summary>
    public static double BestMatMulSeconds(CpuBackend cpu, int rows, int cols, int copies, int tokens, Action<DeviceTensor, int, DeviceTensor> matMul)
    {
        var x = cpu.Allocate(tokens, cols);
        var y = cpu.Allocate(tokens, rows);
        var data = new float[tokens * cols];
        for (int i = 0; i < data.Length; i++) data[i] = (i % 7) * 0.1f - 0.3f;
        cpu.Upload(data, x);
        for (int i = 0; i < copies; i++) matMul(x, i, y);
        int reps = tokens > 16 ? 5 : Math.Max(20, 2 * copies);
        double best = double.MaxValue;
        for (int r = 0; r < reps; r++)
        {
            var sw = Stopwatch.StartNew();
            matMul(x, r % copies, y);
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>Enough copies of a random [n, k] weight to cover about 384 MiB (at least one).</summary>
    public static Weight[] Copies(int n, int k, DType dtype)
    {
        long bytes = (long)n * k * dtype.SizeOf();
        var first = Weight(n, k, dtype);
        int count = (int)Math.Max(1, (384L << 20) / bytes);
        var all = new Weight[count];
        all[0] = first;
        for (int i = 1; i < count; i++)
        {
            var storage = new NativeWeightStorage(bytes);
            first.Bytes.CopyTo(storage.Bytes);
            all[i] = new Weight("bench", dtype, first.Shape, storage, 0);
        }
        return all;
    }
}
