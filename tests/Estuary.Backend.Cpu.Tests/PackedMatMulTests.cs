// MatMul over weights the backend rearranged (Interleaved16): element mapping, accuracy against the scalar twin on shapes that
// exercise every kernel (4-block Vector512 groups, lone blocks, the N mod 16 tail rows, K-slices), batch/thread invariance, and
// bit-for-bit agreement with an in-order scalar FMA chain.
using Estuary.Backend.Cpu;
using Estuary.Backend.Cpu.Kernels.Reference;
using Estuary.Tensors;

namespace Estuary.BackendCpu.Tests;

public sealed class PackedMatMulTests : IDisposable
{
    private readonly CpuBackend _cpu = new(3);

    public void Dispose() => _cpu.Dispose();

    [Theory]
    [InlineData(16, 5)]
    [InlineData(37, 19)]
    [InlineData(130, 64)]
    public void PreparedWeightHoldsTheSameElementsInTheInterleavedLayout(int n, int k)
    {
        foreach (var dt in TestData.FloatDTypes)
        {
            var w = TestData.MakeWeight(TestData.Random(n * k, n + k), dt, n, k);
            var p = _cpu.PrepareLinear(w);
            Assert.Equal(WeightLayout.Interleaved16, p.Layout);
            Assert.Equal(w.Shape, p.Shape);
            Assert.NotEqual(w.Pointer, p.Pointer);
            for (long i = 0; i < (long)n * k; i++) Assert.Equal(w.GetFloat(i), p.GetFloat(i));
            var row = new float[k];
            p.ReadRow(n - 1, row);
            for (int c = 0; c < k; c++) Assert.Equal(w.GetFloat((long)(n - 1) * k + c), row[c]);
            // Element (k = 1, j = 2) of block 0 sits right after block 0's 16 elements for k = 0.
            Assert.Equal(16 + 2, p.StoredIndex(2L * k + 1));
        }
    }

    [Fact]
    public void WeightsWithFewerThan16RowsOrAlreadyPreparedAreReturnedAsTheyAre()
    {
        var small = TestData.MakeWeight(TestData.Random(15 * 8, 1), DType.BF16, 15, 8);
        Assert.Same(small, _cpu.PrepareLinear(small));
        var p = _cpu.PrepareLinear(TestData.MakeWeight(TestData.Random(32 * 8, 1), DType.BF16, 32, 8));
        Assert.Same(p, _cpu.PrepareLinear(p));
        var e = Assert.Throws<InvalidOperationException>(() => p.SliceRows(0, 16));
        Assert.Contains("Interleaved16", e.Message);
    }

    [Fact]
    public void PreparedF16WeightIsMarkedFiniteOnlyWithoutInfOrNaN_AndInfStillPropagates()
    {
        const int n = 64, k = 40;
        var values = TestData.Random(n * k, 5);
        var finite = _cpu.PrepareLinear(TestData.MakeWeight(values, DType.F16, n, k));
        Assert.True(finite.KnownFinite);
        Assert.False(_cpu.PrepareLinear(TestData.MakeWeight(values, DType.BF16, n, k)).KnownFinite);

        values[3 * k + 7] = float.PositiveInfinity; // row 3
        var inf = _cpu.PrepareLinear(TestData.MakeWeight(values, DType.F16, n, k));
        Assert.False(inf.KnownFinite);
        var x = Enumerable.Repeat(0.5f, k).ToArray();
        var y = new float[n];
        _cpu.Download(Run(x, inf, n, k), y);
        Assert.Equal(float.PositiveInfinity, y[3]);
        Assert.True(float.IsFinite(y[4]));
        // The finite weight's fast path gives the same outputs as the general F16 path on a copy marked unknown.
        var unknown = new Weight("unknown", finite.DType, finite.Shape, finite.Storage, 0, WeightLayout.Interleaved16);
        var a = new float[n];
        var b = new float[n];
        _cpu.Download(Run(x, finite, n, k), a);
        _cpu.Download(Run(x, unknown, n, k), b);
        Assert.Equal(b, a);
    }

    private DeviceTensor Run(float[] x, Weight w, int n, int k)
    {
        var y = _cpu.Allocate(1, n);
        _cpu.MatMul(TestData.Upload(_cpu, x, 1, k), w, y);
        return y;
    }

    public static TheoryData<DType, int, int, int> Shapes()
    {
        var data = new TheoryData<DType, int, int, int>();
        foreach (var dt in TestData.FloatDTypes)
        {
            // N = 16 (one lone block), 64 (one 4-block group), 80 (group + lone block), 37/150 (tails), K > 128 (several slices).
            foreach (var (t, n, k) in new[] { (1, 16, 9), (2, 64, 33), (5, 80, 130), (8, 37, 64), (16, 150, 257), (17, 64, 300), (41, 150, 129), (300, 70, 40) })
                data.Add(dt, t, n, k);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesScalarReference(DType dtype, int tokens, int n, int k)
    {
        var x = TestData.Random(tokens * k, 1 + tokens + n + k);
        var w = TestData.MakeWeight(TestData.Random(n * k, 7 * n + k), dtype, n, k);
        var expected = new float[tokens * n];
        MatMulReference.Run(x, tokens, w, expected);
        var y = _cpu.Allocate(tokens, n);
        _cpu.MatMul(TestData.Upload(_cpu, x, tokens, k), _cpu.PrepareLinear(w), y);
        var actual = TestData.Download(_cpu, y);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-6f * k, $"{dtype} T={tokens} N={n} K={k} [{i}]: {expected[i]} vs {actual[i]}");
    }

    [Theory]
    [InlineData(DType.BF16)]
    [InlineData(DType.F16)]
    [InlineData(DType.F32)]
    public void EveryOutputIsOneInOrderFmaChainWhateverTheBatchSizeAndThreadCount(DType dtype)
    {
        const int tokens = 45, n = 150, k = 203; // 45 > 16 tokens: the batched call widens K-slices into panels
        var x = TestData.Random(tokens * k, 3);
        var raw = TestData.MakeWeight(TestData.Random(n * k, 4), dtype, n, k);
        var w = _cpu.PrepareLinear(raw);
        var all = _cpu.Allocate(tokens, n);
        _cpu.MatMul(TestData.Upload(_cpu, x, tokens, k), w, all);
        var batched = TestData.Download(_cpu, all);

        // The contract, spelled out: acc = 0; for k in order: acc = fma(x, w, acc).
        for (int t = 0; t < tokens; t += 11)
        {
            for (int r = 0; r < n; r++)
            {
                float acc = 0f;
                for (int c = 0; c < k; c++) acc = MathF.FusedMultiplyAdd(x[t * k + c], raw.GetFloat((long)r * k + c), acc);
                Assert.Equal(BitConverter.SingleToInt32Bits(acc), BitConverter.SingleToInt32Bits(batched[t * n + r]));
            }
        }

        using var single = new CpuBackend(1);
        foreach (int count in new[] { 1, 2, 3, 7, 8, 16, 17 })
        {
            for (int t0 = 0; t0 + count <= tokens; t0 += count + 5)
            {
                var part = single.Allocate(count, n);
                single.MatMul(TestData.Upload(single, x.AsSpan(t0 * k, count * k).ToArray(), count, k), w, part);
                var got = TestData.Download(single, part);
                for (int i = 0; i < got.Length; i++)
                    Assert.Equal(BitConverter.SingleToInt32Bits(batched[t0 * n + i]), BitConverter.SingleToInt32Bits(got[i]));
            }
        }
    }
}
