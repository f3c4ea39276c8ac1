// Steady-state calls allocate nothing on the calling thread (scratch is per worker and reused; jobs are preallocated).
using Estuary.Backend.Cpu;
using Estuary.Tensors;

namespace Estuary.BackendCpu.Tests;

public sealed class AllocationTests
{
    [Fact]
    public void HotPathCallsDoNotAllocateAfterWarmUp()
    {
        using var cpu = new CpuBackend(2);
        var w = TestData.MakeWeight(TestData.Random(96 * 64, 1), DType.BF16, 96, 64);
        var gamma = TestData.MakeWeight(TestData.Random(64, 2), DType.F16, 64);
        var xs = TestData.Upload(cpu, TestData.Random(40 * 64, 3), 40, 64);
        var ys = cpu.Allocate(40, 96);
        var x1 = xs.SliceRows(0, 3);
        var y1 = ys.SliceRows(0, 3);
        var table = new RopeTable(16, 64, 10000);
        using var cache = cpu.AllocateKvCache(new KvCacheSpec(1, 8, 4, 2, 16));
        var kv = new KvLayer(cache, 0);
        var b = new ForwardBatch(3, 1, 8, 4) { NumSeqs = 1, NumTokens = 3 };
        b.QueryStarts[1] = 3;
        for (int t = 0; t < 3; t++) { b.Positions[t] = 20 + t; b.SlotMapping[t] = 20 + t; }
        for (int i = 0; i < 8; i++) b.BlockTables[i] = 7 - i;
        var q = cpu.Allocate(3, 64);
        var k = cpu.Allocate(3, 32);
        var o = cpu.Allocate(3, 64);
        var p = new AttentionParams(4, 2, 16, 0.25f, [0.5f, 0.25f, 0.125f, 0.0625f]);
        var windowed = p with { SlidingWindow = 5 };
        var bias = TestData.MakeWeight(TestData.Random(96, 4), DType.BF16, 96);
        var headGamma = TestData.MakeWeight(TestData.Random(16, 5), DType.BF16, 16);

        void Step()
        {
            cpu.MatMul(xs, w, ys);  // blocked regime
            cpu.MatMul(x1, w, y1);  // direct regime
            cpu.RmsNorm(xs, gamma, 1e-6f, xs);
            cpu.Rope(q, 4, table, b);
            cpu.WriteKv(k, k, kv, b);
            cpu.PagedAttention(q, kv, b, p, o);
            cpu.PagedAttention(q, kv, b, windowed, o); // Mistral / Qwen sliding layers
            cpu.AddBias(ys, bias);                     // Qwen2's q/k/v biases
            cpu.RmsNormHeads(q, 4, headGamma, 1e-6f);  // Qwen3's q/k norm
            cpu.SiluMul(ys, ys, ys);
        }

        for (int i = 0; i < 3; i++) Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++) Step();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        // Without the spin every wait for a worker blocks: the first blocking waits (which a busy host can delay past any
        // warm-up) allocate nothing either.
        long spin = Estuary.Backend.Cpu.Threading.WorkerPool.SpinTicks;
        try
        {
            Estuary.Backend.Cpu.Threading.WorkerPool.SpinTicks = 0;
            before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 10; i++) Step();
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        finally { Estuary.Backend.Cpu.Threading.WorkerPool.SpinTicks = spin; }
    }
}
