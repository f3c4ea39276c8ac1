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
    public void PreparedF16WeightIsShiftedOnlyWhenEveryValueHasACode_AndInfStillPropagates()
    {
        const int n = 64, k = 40;
        var values = TestData.Random(n * k, 5);
        var shifted = _cpu.PrepareLinear(TestData.MakeWeight(values, DType.F16, n, k));
        Assert.True(shifted.KnownFinite);
        Assert.True(shifted.IsShiftedHalf);
        var bf16 = _cpu.PrepareLinear(TestData.MakeWeight(values, DType.BF16, n, k));
        Assert.False(bf16.KnownFinite || bf16.IsShiftedHalf);
        for (int i = 0; i < n * k; i++) // element accessors decode the codes to the checkpoint's values
            Assert.Equal((float)(Half)values[i], shifted.GetFloat(i));

        values[5 * k + 1] = 300f; // finite, but beyond the codes' range: plain F16 on the finite path
        var large = _cpu.PrepareLinear(TestData.MakeWeight(values, DType.F16, n, k));
        Assert.True(large.KnownFinite);
        Assert.False(large.IsShiftedHalf);
        Assert.Equal(300f, large.GetFloat(5 * k + 1));

        values[3 * k + 7] = float.PositiveInfinity; // row 3
        var inf = _cpu.PrepareLinear(TestData.MakeWeight(values, DType.F16, n, k));
        Assert.False(inf.KnownFinite || inf.IsShiftedHalf);
        var x = Enumerable.Repeat(0.5f, k).ToArray();
        var y = new float[n];
        _cpu.Download(Run(x, inf, n, k), y);
        Assert.Equal(float.PositiveInfinity, y[3]);
        Assert.True(float.IsFinite(y[4]));
    }

    // F16 values with subnormals, zeros of both signs and values up to ±127.9; activations plain, with subnormals, with one element
    // at 2^26 (too large to scale by 2^102: the exact widening runs instead) and with Inf. T = 1, 3 (direct) and 20 (blocked panels).
    [Theory]
    [InlineData(1, 0)]
    [InlineData(3, 0)]
    [InlineData(20, 0)]
    [InlineData(1, 1)]
    [InlineData(3, 2)]
    [InlineData(3, 3)]
    [InlineData(20, 2)]
    public void ShiftedF16GivesTheBitsOfPlainF16OnEveryPath(int tokens, int activationCase)
    {
        const int n = 72, k = 150; // 4 blocks + 1 lone block + 8 tail rows
        var values = TestData.Random(n * k, 11, 127.9f);
        var rng = new Random(12);
        for (int i = 0; i < values.Length; i += 5) values[i] *= MathF.Pow(2, -rng.Next(8, 34)); // many F16 subnormals
        values[7] = 0f; values[8] = -0f; values[9] = 127.9f; values[10] = -127.9f;
        var x = TestData.Random(tokens * k, 13, 3f);
        switch (activationCase)
        {
            case 1: for (int i = 0; i < x.Length; i += 3) x[i] *= 1e-39f; break; // F32 subnormals
            case 2: x[x.Length - 2] = 67108864f; break;                       // 2^26
            case 3: x[4] = float.NegativeInfinity; break;
        }
        var shifted = _cpu.PrepareLinear(TestData.MakeWeight(values, DType.F16, n, k));
        Assert.True(shifted.IsShiftedHalf);
        foreach (bool finite in new[] { true, false })
        {
            var plain = PlainInterleavedF16(values, n, k, finite);
            var expected = TestData.Download(_cpu, RunTokens(x, plain, tokens, n, k));
            var actual = TestData.Download(_cpu, RunTokens(x, shifted, tokens, n, k));
            for (int i = 0; i < expected.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]) || (float.IsNaN(expected[i]) && float.IsNaN(actual[i])),
                    $"T={tokens} case {activationCase} finite={finite} [{i}]: plain {expected[i]:R}, shifted {actual[i]:R}");
        }
    }

    // The F16 bits of `values` in the Interleaved16 arrangement, not re-encoded, marked finite or unknown (the two plain F16 loads).
    private static unsafe Weight PlainInterleavedF16(float[] values, int n, int k, bool finite)
    {
        var rowMajor = TestData.MakeWeight(values, DType.F16, n, k);
        var storage = new NativeWeightStorage(rowMajor.ByteLength);
        var layout = new Weight("plain", DType.F16, rowMajor.Shape, storage, 0, WeightLayout.Interleaved16);
        for (long i = 0; i < values.Length; i++) ((Half*)storage.Pointer)[layout.StoredIndex(i)] = (Half)values[i];
        return new Weight("plain", DType.F16, rowMajor.Shape, storage, 0, WeightLayout.Interleaved16) { KnownFinite = finite };
    }

    private DeviceTensor RunTokens(float[] x, Weight w, int tokens, int n, int k)
    {
        var y = _cpu.Allocate(tokens, n);
        _cpu.MatMul(TestData.Upload(_cpu, x, tokens, k), w, y);
        return y;
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
    [InlineData(DType.BF16, 45, 203)]
    [InlineData(DType.F16, 45, 203)]
    [InlineData(DType.F32, 45, 203)]
    // 140 tokens: two token blocks; K = 2500: x of a 128-token block exceeds 1 MiB, so K runs in two phases (1280 + 1220).
    [InlineData(DType.BF16, 140, 2500)]
    public void EveryOutputIsOneInOrderFmaChainWhateverTheBatchSizeAndThreadCount(DType dtype, int tokens, int k)
    {
        const int n = 150; // more than 16 tokens: the batched call widens K-slices into panels
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
        foreach (int count in new[] { 1, 2, 3, 7, 8, 12, 13, 16, 17 })
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
