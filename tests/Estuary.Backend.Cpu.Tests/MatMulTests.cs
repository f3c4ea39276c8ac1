// MatMul vs its scalar twin (all weight dtypes, odd shapes, both regimes), batch/thread invariance, widening and shape errors.
using Estuary.Backend.Cpu;
using Estuary.Backend.Cpu.Kernels;
using Estuary.Backend.Cpu.Kernels.Reference;
using Estuary.Tensors;

namespace Estuary.BackendCpu.Tests;

public sealed class MatMulTests : IDisposable
{
    private readonly CpuBackend _cpu = new(3);

    public void Dispose() => _cpu.Dispose();

    public static TheoryData<DType, int, int, int> Shapes()
    {
        var data = new TheoryData<DType, int, int, int>();
        foreach (var dt in TestData.FloatDTypes)
        {
            foreach (var (t, n, k) in new[] { (1, 1, 1), (1, 7, 9), (2, 4, 8), (3, 33, 63), (5, 13, 130), (8, 64, 64), (16, 9, 17), (17, 37, 71), (41, 70, 260), (300, 23, 33) })
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
        _cpu.MatMul(TestData.Upload(_cpu, x, tokens, k), w, y);
        var actual = TestData.Download(_cpu, y);
        // F32 accumulation of K products vs a double reference: error ≤ ~K·ε·Σ|x·w|; Σ|x·w| ≈ K/4 here, so scale by K.
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-6f * k, $"{dtype} T={tokens} N={n} K={k} [{i}]: {expected[i]} vs {actual[i]}");
    }

    [Theory]
    [InlineData(DType.BF16)]
    [InlineData(DType.F16)]
    [InlineData(DType.F32)]
    public void RowsAreBitIdenticalWhateverTheBatchSizeAndThreadCount(DType dtype)
    {
        const int tokens = 37, n = 45, k = 203; // 37 > DirectMaxTokens: the batched call takes the packed (prefill) path
        Assert.True(tokens > MatMulKernel.DirectMaxTokens);
        var x = TestData.Random(tokens * k, 3);
        var w = TestData.MakeWeight(TestData.Random(n * k, 4), dtype, n, k);
        var xt = TestData.Upload(_cpu, x, tokens, k);
        var all = _cpu.Allocate(tokens, n);
        _cpu.MatMul(xt, w, all);
        var batched = TestData.Download(_cpu, all);

        using var single = new CpuBackend(1);
        foreach (int count in new[] { 1, 2, 3, 8, 16 })
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

    [Fact]
    public void ScalarFallbackMatchesSimdBitForBit()
    {
        const int k = 77;
        var x = TestData.Random(k, 5);
        foreach (var dt in TestData.FloatDTypes)
        {
            var w = TestData.MakeWeight(TestData.Random(k, 6), dt, 1, k);
            unsafe
            {
                ref byte wr = ref System.Runtime.CompilerServices.Unsafe.AsRef<byte>((void*)w.Pointer);
                float simd = dt switch
                {
                    DType.F32 => MatMulKernel.Dot<F32Load>(ref x[0], ref wr, k),
                    DType.F16 => MatMulKernel.Dot<F16Load>(ref x[0], ref wr, k),
                    _ => MatMulKernel.Dot<BF16Load>(ref x[0], ref wr, k),
                };
                float scalar = dt switch
                {
                    DType.F32 => MatMulKernel.DotScalar<F32Load>(ref x[0], ref wr, k),
                    DType.F16 => MatMulKernel.DotScalar<F16Load>(ref x[0], ref wr, k),
                    _ => MatMulKernel.DotScalar<BF16Load>(ref x[0], ref wr, k),
                };
                Assert.Equal(BitConverter.SingleToInt32Bits(scalar), BitConverter.SingleToInt32Bits(simd));
            }
        }
    }

    [Theory]
    [InlineData(DType.F16)]
    [InlineData(DType.BF16)]
    public void VectorWideningIsExactForEvery16BitPattern(DType dtype)
    {
        var bits = new ushort[65536];
        for (int i = 0; i < bits.Length; i++) bits[i] = (ushort)i;
        var w = TestData.MakeRawWeight(bits, dtype, 1, bits.Length);
        var wide = new float[bits.Length];
        EmbeddingKernel.Row(w, 0, ref wide[0], simd: true);
        for (int i = 0; i < bits.Length; i++)
        {
            float expected = dtype == DType.F16 ? (float)BitConverter.UInt16BitsToHalf((ushort)i) : BitConverter.UInt32BitsToSingle((uint)i << 16);
            if (float.IsNaN(expected)) Assert.True(float.IsNaN(wide[i]), $"pattern 0x{i:X4} should widen to NaN");
            else Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(wide[i]));
        }
    }

    [Theory]
    [InlineData(DType.F16)]
    [InlineData(DType.BF16)]
    public unsafe void SixteenLaneWideningIsExactForEvery16BitPattern(DType dtype)
    {
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated || !System.Runtime.Intrinsics.X86.Avx512F.IsSupported) return; // AVX-512 kernels only
        var bits = new ushort[65536];
        for (int i = 0; i < bits.Length; i++) bits[i] = (ushort)i;
        fixed (ushort* p = bits)
        {
            for (int i = 0; i < bits.Length; i += 16)
            {
                var v = dtype == DType.F16 ? F16Load.Load16((byte*)(p + i)) : BF16Load.Load16((byte*)(p + i));
                for (int j = 0; j < 16; j++)
                {
                    float expected = dtype == DType.F16 ? (float)BitConverter.UInt16BitsToHalf((ushort)(i + j)) : BitConverter.UInt32BitsToSingle((uint)(i + j) << 16);
                    if (float.IsNaN(expected)) Assert.True(float.IsNaN(v[j]), $"pattern 0x{i + j:X4} should widen to NaN");
                    else Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(v[j]));
                }
            }
        }
    }

    [Fact]
    public unsafe void FiniteF16WideningMatchesTheFullPathOnEveryFinitePattern()
    {
        var finite = Enumerable.Range(0, 65536).Where(i => (i & 0x7C00) != 0x7C00).Select(i => (ushort)i).ToArray(); // 63 488 patterns
        Assert.Equal(0, finite.Length % 16);
        fixed (ushort* p = finite)
        {
            Assert.True(F16FiniteLoad.AllFinite(p, finite.Length));
            for (int i = 0; i < finite.Length; i += 16)
            {
                for (int half = 0; half < 16; half += 8)
                {
                    var v8 = F16FiniteLoad.Load8(ref *(byte*)p, (nuint)(i + half));
                    for (int j = 0; j < 8; j++)
                        Assert.Equal(BitConverter.SingleToInt32Bits((float)BitConverter.UInt16BitsToHalf(finite[i + half + j])), BitConverter.SingleToInt32Bits(v8[j]));
                }
                if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated || !System.Runtime.Intrinsics.X86.Avx512F.IsSupported) continue;
                var v = F16FiniteLoad.Load16((byte*)(p + i));
                for (int j = 0; j < 16; j++)
                    Assert.Equal(BitConverter.SingleToInt32Bits((float)BitConverter.UInt16BitsToHalf(finite[i + j])), BitConverter.SingleToInt32Bits(v[j]));
            }
        }
        var withInf = new ushort[100];
        withInf[77] = 0xFC00; // −Inf
        fixed (ushort* p = withInf) Assert.False(F16FiniteLoad.AllFinite(p, withInf.Length));
        withInf[77] = 0x7E01; // NaN, in the scalar tail of a 100-element check
        fixed (ushort* p = withInf) Assert.False(F16FiniteLoad.AllFinite(p, withInf.Length));
    }

    [Fact]
    public void ShapeMismatchThrowsNamingTheOpAndShapes()
    {
        var w = TestData.MakeWeight(new float[12], DType.F32, 3, 4);
        var ex = Assert.Throws<ArgumentException>(() => _cpu.MatMul(_cpu.Allocate(2, 5), w, _cpu.Allocate(2, 3)));
        Assert.Contains("MatMul", ex.Message);
        Assert.Contains("[2, 5]", ex.Message);
        Assert.Throws<ArgumentException>(() => _cpu.MatMul(_cpu.Allocate(2, 4), w, _cpu.Allocate(2, 4)));
        var big = _cpu.Allocate(4, 4);
        Assert.Throws<ArgumentException>(() => _cpu.MatMul(big.SliceRows(0, 2), w, big.SliceRows(1, 2)));
    }

    [Fact]
    public void WritesOnlyIntoTheOutputView()
    {
        const int tokens = 3, n = 5, k = 9;
        var w = TestData.MakeWeight(TestData.Random(n * k, 1), DType.BF16, n, k);
        var y = _cpu.Allocate(tokens + 2, n);
        var sentinel = Enumerable.Repeat(42f, (tokens + 2) * n).ToArray();
        _cpu.Upload(sentinel, y);
        _cpu.MatMul(TestData.Upload(_cpu, TestData.Random(tokens * k, 2), tokens, k), w, y.SliceRows(1, tokens));
        var got = TestData.Download(_cpu, y);
        Assert.All(got.AsSpan(0, n).ToArray(), v => Assert.Equal(42f, v));
        Assert.All(got.AsSpan((tokens + 1) * n).ToArray(), v => Assert.Equal(42f, v));
        Assert.DoesNotContain(42f, got.AsSpan(n, tokens * n).ToArray());
    }
}
