// Quantized MatMul (INT8 per channel, INT4 groups): accuracy against the double-precision dequantized product (within what the
// 16-bit activations allow), bit-for-bit agreement with the defined operations (RunExact) for every tile implementation, batch
// sizes and thread counts bit-identical, non-finite activations, the interleaved storage layout, errors.
using Estuary.Backend.Cpu;
using Estuary.Backend.Cpu.Jobs;
using Estuary.Backend.Cpu.Kernels;
using Estuary.Backend.Cpu.Kernels.Reference;
using Estuary.Tensors.Quantization;

namespace Estuary.BackendCpu.Tests.Quantization;

public sealed class QuantizedMatMulTests : IDisposable
{
    private readonly CpuBackend _cpu = new(3);

    public void Dispose() => _cpu.Dispose();

    /// <summary>A weight with random integers, scales (F16-valued) and zero points.</summary>
    internal static QuantizedWeight RandomWeight(QuantScheme scheme, int n, int k, int groupSize, int seed)
    {
        var rng = new Random(seed);
        var w = new QuantizedWeight("test", scheme, n, k, groupSize);
        int groups = w.NumGroups;
        for (int r = 0; r < n; r++)
        {
            if (scheme == QuantScheme.Int8PerChannel)
            {
                var q = new sbyte[k];
                for (int i = 0; i < k; i++) q[i] = (sbyte)rng.Next(-127, 128);
                w.SetRowInt8(r, q, (float)(Half)(0.001f + rng.NextSingle() * 0.01f));
            }
            else
            {
                var q = new byte[k];
                for (int i = 0; i < k; i++) q[i] = (byte)rng.Next(16);
                var s = new float[groups];
                var z = new byte[groups];
                for (int g = 0; g < groups; g++) { s[g] = (float)(Half)(0.01f + rng.NextSingle() * 0.05f); z[g] = (byte)rng.Next(16); }
                w.SetRowInt4(r, q, s, z);
            }
        }
        return w;
    }

    public static TheoryData<QuantScheme, int, int, int, int> Shapes()
    {
        var data = new TheoryData<QuantScheme, int, int, int, int>();
        foreach (var scheme in new[] { QuantScheme.Int8PerChannel, QuantScheme.Int4Group })
        {
            // N below, at and past the 64-row unit (padding), G below / at / above the 128-column activation block.
            foreach (var (t, n, k, g) in new[] { (1, 1, 16, 16), (1, 7, 32, 16), (2, 8, 128, 32), (3, 37, 256, 128), (4, 64, 64, 64),
                         (5, 13, 96, 32), (20, 70, 256, 128), (300, 9, 128, 128), (1, 130, 384, 192), (17, 128, 512, 256), (1, 200, 1024, 128),
                         (300, 40, 512, 128) }) // the last: activations quantized in several parallel chunks
                data.Add(scheme, t, n, k, g);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesScalarReference(QuantScheme scheme, int tokens, int n, int k, int groupSize)
    {
        // Against the double-precision product with unquantized activations: the error allowed is what rounding each activation to
        // 1/32639 of its block's max can cause (half a step times Σ|w| per block), plus F32 rounding.
        var w = RandomWeight(scheme, n, k, groupSize, n * 31 + k);
        var x = TestData.Random(tokens * k, 3 + tokens + n);
        var expected = new float[tokens * n];
        QuantizedMatMulReference.Run(x, tokens, w, expected);
        var y = _cpu.Allocate(tokens, n);
        _cpu.MatMul(TestData.Upload(_cpu, x, tokens, k), w, y);
        var actual = TestData.Download(_cpu, y);
        int bsz = w.ActivationBlock;
        for (int t = 0; t < tokens; t++)
        {
            for (int r = 0; r < n; r++)
            {
                double bound = 0, magnitude = 0;
                for (int b = 0; b < k / bsz; b++)
                {
                    double amax = 0, wsum = 0;
                    for (int i = b * bsz; i < (b + 1) * bsz; i++)
                    {
                        amax = Math.Max(amax, Math.Abs(x[t * k + i]));
                        wsum += Math.Abs(w.DequantizeElement(r, i));
                        magnitude += Math.Abs(w.DequantizeElement(r, i) * x[t * k + i]);
                    }
                    bound += 0.5 * amax / 32639 * wsum;
                }
                bound = bound * 1.01 + 1e-6 * magnitude + 1e-7;
                int at = t * n + r;
                Assert.True(Math.Abs(expected[at] - actual[at]) <= bound, $"{scheme} T={tokens} N={n} K={k} [{t}, {r}]: {expected[at]} vs {actual[at]} (bound {bound})");
            }
        }
    }

    [Fact]
    public void ActivationErrorIsFarBelowTheWeightQuantizationStep()
    {
        // The 16-bit activations must not add visible error: on realistic values the result stays within 2e-4 of the product with
        // F32 activations, relative to the output's scale.
        var w = RandomWeight(QuantScheme.Int4Group, 64, 2048, 128, 4);
        var x = TestData.Random(4 * 2048, 8);
        var expected = new float[4 * 64];
        QuantizedMatMulReference.Run(x, 4, w, expected);
        var y = _cpu.Allocate(4, 64);
        _cpu.MatMul(TestData.Upload(_cpu, x, 4, 2048), w, y);
        var actual = TestData.Download(_cpu, y);
        double scale = Math.Sqrt(expected.Average(v => (double)v * v));
        Assert.All(Enumerable.Range(0, expected.Length), i => Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-4 * scale, $"[{i}] {expected[i]} vs {actual[i]}"));
    }

    [Theory]
    [InlineData(QuantScheme.Int8PerChannel)]
    [InlineData(QuantScheme.Int4Group)]
    public void NonFiniteActivationsGiveNaNOnlyInTheirOwnRows(QuantScheme scheme)
    {
        const int n = 40, k = 256;
        var w = RandomWeight(scheme, n, k, 128, 6);
        var x = TestData.Random(3 * k, 7);
        x[k + 5] = float.PositiveInfinity;
        x[2 * k + 200] = float.NaN;
        var y = _cpu.Allocate(3, n);
        _cpu.MatMul(TestData.Upload(_cpu, x, 3, k), w, y);
        var got = TestData.Download(_cpu, y);
        for (int r = 0; r < n; r++)
        {
            Assert.True(float.IsFinite(got[r]));
            Assert.True(float.IsNaN(got[n + r]));
            Assert.True(float.IsNaN(got[2 * n + r]));
        }
        var zeros = _cpu.Allocate(1, n);
        _cpu.MatMul(TestData.Upload(_cpu, new float[k], 1, k), w, zeros);
        Assert.All(TestData.Download(_cpu, zeros), v => Assert.Equal(0f, v));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void FollowsTheDefinedOperationOrderBitForBit(QuantScheme scheme, int tokens, int n, int k, int groupSize)
    {
        var w = RandomWeight(scheme, n, k, groupSize, n * 17 + k);
        var x = TestData.Random(tokens * k, 5 + tokens + n);
        var expected = new float[tokens * n];
        QuantizedMatMulReference.RunExact(x, tokens, w, expected);
        var y = _cpu.Allocate(tokens, n);
        _cpu.MatMul(TestData.Upload(_cpu, x, tokens, k), w, y);
        var actual = TestData.Download(_cpu, y);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{scheme} T={tokens} N={n} K={k} G={groupSize} [{i}]: {expected[i]} vs {actual[i]}");
    }

    public static TheoryData<QuantScheme, int> WidthCases()
    {
        var data = new TheoryData<QuantScheme, int>();
        foreach (var scheme in new[] { QuantScheme.Int8PerChannel, QuantScheme.Int4Group })
            foreach (int tokens in new[] { 1, 3, 20 })
                data.Add(scheme, tokens);
        return data;
    }

    [Theory]
    [MemberData(nameof(WidthCases))]
    public unsafe void EveryTileImplementationGivesTheDefinedBits(QuantScheme scheme, int tokens)
    {
        // The job run directly (one worker) with each tile implementation this machine has (scalar, AVX2, AVX-VNNI) and both
        // activation quantizer paths (scalar width, and the machine's widest).
        const int n = 90, k = 384, g = 128;
        var w = RandomWeight(scheme, n, k, g, 21);
        var x = TestData.Random(tokens * k, 22);
        var expected = new float[tokens * n];
        QuantizedMatMulReference.RunExact(x, tokens, w, expected);
        var job = new QuantizedMatMulJob(1);
        foreach (var width in new[] { SimdWidth.Scalar, SimdWidths.Best }.Distinct())
        {
            foreach (var tiles in QuantizedDotKernel.Available())
            {
                var y = GC.AllocateArray<float>(tokens * n, pinned: true);
                y.AsSpan().Fill(float.NaN); // every output must be written
                fixed (float* px = x)
                fixed (float* py = y)
                {
                    int chunks = job.PrepareActivations(tokens, px, w, py, width, threads: 1, tiles);
                    for (int c = 0; c < chunks; c++) job.Execute(c, 0);
                    chunks = job.PrepareMatMul(threads: 1);
                    for (int c = 0; c < chunks; c++) job.Execute(c, 0);
                    job.Clear();
                }
                for (int i = 0; i < expected.Length; i++)
                    Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(y[i]),
                        $"{scheme} {width} {tiles} T={tokens} [{i}]: {expected[i]} vs {y[i]}");
            }
        }
    }

    [Theory]
    [InlineData(QuantScheme.Int8PerChannel)]
    [InlineData(QuantScheme.Int4Group)]
    public void InterleavedStorageKeepsEveryElement(QuantScheme scheme)
    {
        // 70 rows: two 64-row units, the second padded; q, zero point and value of every element read back as set.
        const int n = 70, k = 64, g = 32;
        var rng = new Random(9);
        var w = new QuantizedWeight("layout", scheme, n, k, g);
        Assert.Equal(128, w.PaddedRows);
        var q = new int[n, k];
        var z = new int[n, k / g];
        var s = new float[n, k / g];
        for (int r = 0; r < n; r++)
        {
            if (scheme == QuantScheme.Int8PerChannel)
            {
                var row = new sbyte[k];
                for (int c = 0; c < k; c++) q[r, c] = row[c] = (sbyte)rng.Next(-127, 128);
                s[r, 0] = s[r, 1] = (float)(Half)(0.01f + r);
                w.SetRowInt8(r, row, s[r, 0]);
                continue;
            }
            var bytes = new byte[k];
            for (int c = 0; c < k; c++) q[r, c] = bytes[c] = (byte)rng.Next(16);
            var zr = new byte[k / g];
            var sr = new float[k / g];
            for (int gi = 0; gi < k / g; gi++) { z[r, gi] = zr[gi] = (byte)rng.Next(16); s[r, gi] = sr[gi] = (float)(Half)(0.5f + r + gi); }
            w.SetRowInt4(r, bytes, sr, zr);
        }
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < k; c++)
            {
                Assert.Equal(q[r, c], w.GetQ(r, c));
                Assert.Equal((q[r, c] - z[r, c / g]) * (double)s[r, c / g], w.DequantizeElement(r, c));
            }
            for (int gi = 0; gi < k / g; gi++)
            {
                Assert.Equal(z[r, gi], w.GetZero(r, gi));
                Assert.Equal(s[r, gi], w.GetScale(r, gi));
            }
        }
        unsafe
        {
            // Row 17 is lane 1 of block 1; its value at k = 9 sits in block 1's storage: INT8 as q + 128 in the lane's 4 bytes of
            // columns 8..11, INT4 as nibble 1 of the lane's word for columns 8..15.
            byte* block1 = (byte*)w.Data + w.BlockBytes;
            if (scheme == QuantScheme.Int8PerChannel) Assert.Equal(q[17, 9] + 128, block1[64 * 2 + 4 * 1 + 1]);
            else Assert.Equal(q[17, 9], (int)((((uint*)block1)[16 * 1 + 1] >> 4) & 15));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => w.GetQ(n, 0));
    }

    [Theory]
    [InlineData(QuantScheme.Int8PerChannel)]
    [InlineData(QuantScheme.Int4Group)]
    public void RowsAreBitIdenticalWhateverTheBatchAndThreads(QuantScheme scheme)
    {
        // Decode (fused, registers) and batched (integer panel) regimes, 1 or 3 threads: every row must come out the same bits.
        const int n = 145, k = 256, tokens = 40;
        var w = RandomWeight(scheme, n, k, 64, 5);
        var x = TestData.Random(tokens * k, 11);
        var all = _cpu.Allocate(tokens, n);
        _cpu.MatMul(TestData.Upload(_cpu, x, tokens, k), w, all);
        var batched = TestData.Download(_cpu, all);
        using var single = new CpuBackend(1);
        foreach (int count in new[] { 1, 2, 5, 16, 17 })
        {
            for (int t = 0; t + count <= tokens; t += count + 6)
            {
                var part = single.Allocate(count, n);
                single.MatMul(TestData.Upload(single, x[(t * k)..((t + count) * k)], count, k), w, part);
                var got = TestData.Download(single, part);
                for (int i = 0; i < got.Length; i++)
                    Assert.Equal(BitConverter.SingleToInt32Bits(batched[t * n + i]), BitConverter.SingleToInt32Bits(got[i]));
            }
        }
    }

    [Fact]
    public void ShapeMismatchIsRejected()
    {
        var w = RandomWeight(QuantScheme.Int4Group, 8, 32, 16, 1);
        var ex = Assert.Throws<ArgumentException>(() => _cpu.MatMul(_cpu.Allocate(1, 16), w, _cpu.Allocate(1, 8)));
        Assert.Contains("test", ex.Message);
        Assert.Throws<ArgumentException>(() => new QuantizedWeight("bad", QuantScheme.Int4Group, 4, 40, 20));
        // INT4 scales are stored as F16: a scale F16 cannot hold exactly is refused rather than rounded.
        var e = Assert.Throws<ArgumentException>(() => w.SetRowInt4(0, new byte[32], [0.1f, 0.25f], [0, 0]));
        Assert.Contains("F16", e.Message);
        w.SetRowInt4(0, new byte[32], [(float)(Half)0.1f, 0.25f], [0, 0]);
    }

    [Fact]
    public void PackedBytesAreAQuarterOrHalfOfBf16()
    {
        var w4 = RandomWeight(QuantScheme.Int4Group, 64, 1024, 128, 2);
        var w8 = RandomWeight(QuantScheme.Int8PerChannel, 64, 1024, 1024, 2);
        long bf16 = 64 * 1024 * 2;
        Assert.InRange(w4.ByteLength, bf16 / 4, bf16 / 4 * 1.15);
        Assert.InRange(w8.ByteLength, bf16 / 2, bf16 / 2 * 1.01);
    }
}
