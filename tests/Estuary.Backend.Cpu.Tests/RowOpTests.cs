// RmsNorm, Rope, SiluMul, Embedding, Add, ScaleColumns, GatherRows, Upload/Download vs scalar twins, incl. tails and many rows.
using Estuary.Backend.Cpu;
using Estuary.Backend.Cpu.Kernels.Reference;
using Estuary.Tensors;

namespace Estuary.BackendCpu.Tests;

public sealed class RowOpTests : IDisposable
{
    private readonly CpuBackend _cpu = new(2);

    public void Dispose() => _cpu.Dispose();

    public static TheoryData<DType, int, int> DTypeShapes()
    {
        var data = new TheoryData<DType, int, int>();
        foreach (var dt in TestData.FloatDTypes)
        {
            data.Add(dt, 1, 5);
            data.Add(dt, 3, 64);
            data.Add(dt, 300, 257); // > 32K elements: split across threads
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(DTypeShapes))]
    public void RmsNormMatchesReference(DType dtype, int tokens, int h)
    {
        var x = TestData.Random(tokens * h, h, 3f);
        var gamma = TestData.MakeWeight(TestData.Random(h, 2).Select(g => 1 + g * 0.2f).ToArray(), dtype, h);
        var expected = new float[x.Length];
        RmsNormReference.Run(x, tokens, gamma, 1e-6f, expected);
        var y = _cpu.Allocate(tokens, h);
        _cpu.RmsNorm(TestData.Upload(_cpu, x, tokens, h), gamma, 1e-6f, y);
        TestData.AssertClose(expected, TestData.Download(_cpu, y), 1e-5f, 1e-3f, "rmsnorm");
    }

    [Theory]
    [MemberData(nameof(DTypeShapes))]
    public void AddBiasAddsTheBiasToEveryRow(DType dtype, int tokens, int n)
    {
        var y = TestData.Random(tokens * n, n + 7, 3f);
        var biasValues = TestData.Random(n, 5);
        var bias = TestData.MakeWeight(biasValues, dtype, n);
        var expected = new float[y.Length];
        for (int t = 0; t < tokens; t++)
            for (int i = 0; i < n; i++) expected[t * n + i] = y[t * n + i] + bias.GetFloat(i); // the stored (rounded) bias
        var yt = TestData.Upload(_cpu, y, tokens, n);
        _cpu.AddBias(yt, bias);
        Assert.Equal(expected, TestData.Download(_cpu, yt)); // one IEEE add per element: exact
        Assert.Throws<ArgumentException>(() => _cpu.AddBias(yt, TestData.MakeWeight(new float[n + 1], DType.F32, n + 1)));
    }

    [Theory]
    [InlineData(DType.F32, 1, 2, 16)]
    [InlineData(DType.BF16, 5, 8, 128)]  // Qwen3's head dim
    [InlineData(DType.F16, 300, 4, 13)]  // scalar tails, many rows split across threads
    public void RmsNormHeadsNormalisesEachHeadLikeRmsNormOfItsRows(DType dtype, int tokens, int heads, int d)
    {
        // [T, heads·D] per head equals RmsNorm of the same numbers viewed as [T·heads, D].
        var x = TestData.Random(tokens * heads * d, d + heads, 3f);
        var gamma = TestData.MakeWeight(TestData.Random(d, 4).Select(g => 1 + g * 0.2f).ToArray(), dtype, d);
        var expected = new float[x.Length];
        RmsNormReference.Run(x, tokens * heads, gamma, 1e-6f, expected);
        var xt = TestData.Upload(_cpu, x, tokens, heads * d);
        _cpu.RmsNormHeads(xt, heads, gamma, 1e-6f);
        TestData.AssertClose(expected, TestData.Download(_cpu, xt), 1e-5f, 1e-3f, "per-head rmsnorm");
        Assert.Throws<ArgumentException>(() => _cpu.RmsNormHeads(xt, heads + 1, gamma, 1e-6f));
    }

    [Fact]
    public void RmsNormInPlaceAndEpsInsideTheSqrt()
    {
        var gamma = TestData.MakeWeight([1f, 1f], DType.F32, 2);
        var x = TestData.Upload(_cpu, [0f, 0f, 3f, 4f], 2, 2);
        _cpu.RmsNorm(x, gamma, 0.5f, x);
        var got = TestData.Download(_cpu, x);
        Assert.Equal([0f, 0f], got[..2]); // 0 / sqrt(0 + eps) = 0 (eps keeps it finite)
        float inv = 1f / MathF.Sqrt(12.5f + 0.5f);
        Assert.Equal(3f * inv, got[2], 6);
        Assert.Equal(4f * inv, got[3], 6);
        Assert.Throws<ArgumentException>(() => _cpu.RmsNorm(x, TestData.MakeWeight([1f, 1f, 1f], DType.F32, 3), 1e-6f, x));
    }

    [Theory]
    [InlineData(1, 4, 16)]
    [InlineData(5, 3, 20)]
    [InlineData(200, 8, 64)]
    public void RopeMatchesRotateHalfReference(int tokens, int heads, int d)
    {
        var table = new RopeTable(d, 4096, 10000);
        var b = new ForwardBatch(tokens, 1, 1, 16);
        for (int t = 0; t < tokens; t++) b.Positions[t] = (t * 37 + 3) % 4096;
        var x = TestData.Random(tokens * heads * d, d);
        var expected = (float[])x.Clone();
        RopeReference.Run(expected, tokens, heads, table, b.Positions);
        var xt = TestData.Upload(_cpu, x, tokens, heads * d);
        _cpu.Rope(xt, heads, table, b);
        TestData.AssertClose(expected, TestData.Download(_cpu, xt), 1e-5f, 1e-2f, "rope");
    }

    [Theory]
    [InlineData(3, 4, 16, 12)] // Phi-4-mini's partial_rotary_factor 0.75
    [InlineData(7, 2, 64, 32)]
    [InlineData(2, 3, 20, 2)]
    public void PartialRopeTurnsTheFirstDimensionsOfEachHeadAndLeavesTheRest(int tokens, int heads, int stride, int d)
    {
        // A LongRoPE table too: other frequencies from position 50 on, cos and sin scaled.
        var shortFreq = RopeTable.DefaultInverseFrequencies(d, 10000);
        var longFreq = shortFreq.Select(f => f / 3f).ToArray();
        var table = new RopeTable(128, shortFreq, longFreq, switchPosition: 50, scale: 1.19);
        var b = new ForwardBatch(tokens, 1, 1, 16);
        for (int t = 0; t < tokens; t++) b.Positions[t] = (t * 37 + 3) % 128;
        var x = TestData.Random(tokens * heads * stride, stride);
        var expected = (float[])x.Clone();
        RopeReference.Run(expected, tokens, heads, table, b.Positions, stride);
        var xt = TestData.Upload(_cpu, x, tokens, heads * stride);
        _cpu.Rope(xt, heads, table, b);
        var got = TestData.Download(_cpu, xt);
        TestData.AssertClose(expected, got, 1e-5f, 1e-2f, "partial rope");
        for (int i = 0; i < x.Length; i++)
            if (i % stride >= d) Assert.Equal(x[i], got[i]); // the pass-through dimensions are untouched
        // The table itself: scaled, and the long frequencies from the switch on.
        int j = d / 2 - 1;
        Assert.Equal((float)(1.19 * Math.Cos(49 * (double)shortFreq[j])), table.Cos[49 * (d / 2) + j]);
        Assert.Equal((float)(1.19 * Math.Sin(50 * (double)longFreq[j])), table.Sin[50 * (d / 2) + j]);
        Assert.Throws<ArgumentException>(() => _cpu.Rope(xt, heads * stride, table, b)); // heads narrower than the table
    }

    [Fact]
    public void RopeAtPositionZeroIsIdentityAndRejectsBadPositions()
    {
        var table = new RopeTable(8, 16, 10000);
        var b = new ForwardBatch(2, 1, 1, 16);
        var x = TestData.Random(2 * 16, 1);
        var xt = TestData.Upload(_cpu, x, 2, 16);
        _cpu.Rope(xt, 2, table, b);
        Assert.Equal(x, TestData.Download(_cpu, xt));
        b.Positions[1] = 16;
        Assert.Throws<ArgumentOutOfRangeException>(() => _cpu.Rope(xt, 2, table, b));
        Assert.Throws<ArgumentException>(() => _cpu.Rope(xt, 3, table, b));
    }

    [Theory]
    [InlineData(1, 7)]
    [InlineData(4, 172)]
    [InlineData(300, 255)]
    public void SiluMulMatchesReference(int tokens, int n)
    {
        var g = TestData.Random(tokens * n, 1, 30f); // wide range: exp over/underflow at the ends
        var u = TestData.Random(tokens * n, 2, 2f);
        var expected = new float[g.Length];
        ElementwiseReference.SiluMul(g, u, expected);
        var y = _cpu.Allocate(tokens, n);
        _cpu.SiluMul(TestData.Upload(_cpu, g, tokens, n), TestData.Upload(_cpu, u, tokens, n), y);
        TestData.AssertClose(expected, TestData.Download(_cpu, y), 1e-5f, 1e-6f, "silu·up");
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.F16)]
    [InlineData(DType.BF16)]
    public void EmbeddingMatchesReference(DType dtype)
    {
        const int vocab = 50, h = 67;
        var table = TestData.MakeWeight(TestData.Random(vocab * h, 9), dtype, vocab, h);
        int[] ids = [3, 0, 49, 3, 17];
        var expected = new float[ids.Length * h];
        ElementwiseReference.Embedding(table, ids, expected);
        var y = _cpu.Allocate(ids.Length, h);
        _cpu.Embedding(table, ids, y);
        Assert.Equal(expected, TestData.Download(_cpu, y)); // widening is exact
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _cpu.Embedding(table, [50], _cpu.Allocate(1, h)));
        Assert.Contains("50", ex.Message);
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.F16)]
    [InlineData(DType.BF16)]
    public void EmbeddingReadsATableRearrangedForTheMatMulExactly(DType dtype)
    {
        // A tied LM head's table is rearranged (Interleaved16; F16 possibly re-encoded as shifted halves) and the embedding
        // gathers from it: every row, in a 16-row block or in the row-major tail, must read as the stored row did.
        const int vocab = 50, h = 67; // three 16-row blocks and a tail of 2 rows
        var table = TestData.MakeWeight(TestData.Random(vocab * h, 11), dtype, vocab, h);
        var prepared = _cpu.PrepareLinear(table);
        Assert.Equal(WeightLayout.Interleaved16, prepared.Layout);
        int[] ids = [.. Enumerable.Range(0, vocab)];
        var expected = _cpu.Allocate(vocab, h);
        var got = _cpu.Allocate(vocab, h);
        _cpu.Embedding(table, ids, expected);
        _cpu.Embedding(prepared, ids, got);
        Assert.Equal(TestData.Download(_cpu, expected), TestData.Download(_cpu, got));
    }

    [Fact]
    public void AddScaleColumnsAndGatherRowsMatchReference()
    {
        const int tokens = 130, n = 301;
        var a = TestData.Random(tokens * n, 1);
        var b = TestData.Random(tokens * n, 2);
        var scales = TestData.Random(n, 3);
        var expected = (float[])a.Clone();
        ElementwiseReference.Add(expected, b);
        ElementwiseReference.ScaleColumns(expected, scales);
        var at = TestData.Upload(_cpu, a, tokens, n);
        _cpu.Add(at, TestData.Upload(_cpu, b, tokens, n));
        _cpu.ScaleColumns(at, scales);
        var got = TestData.Download(_cpu, at);
        Assert.Equal(expected, got); // same float operations in the same order: exact

        int[] rows = [129, 0, 64, 64];
        var gathered = new float[rows.Length * n];
        ElementwiseReference.GatherRows(got, n, rows, gathered);
        var y = _cpu.Allocate(rows.Length, n);
        _cpu.GatherRows(at, rows, y);
        Assert.Equal(gathered, TestData.Download(_cpu, y));
        Assert.Throws<ArgumentOutOfRangeException>(() => _cpu.GatherRows(at, [130], _cpu.Allocate(1, n)));
        Assert.Throws<ArgumentException>(() => _cpu.Add(at, _cpu.Allocate(tokens, n - 1)));
        Assert.Throws<ArgumentException>(() => _cpu.ScaleColumns(at, scales.AsSpan(1)));
    }

    [Fact]
    public void TensorsAllocateZeroedSliceAndCheckSizes()
    {
        var t = (CpuTensor)_cpu.Allocate(3, 4);
        Assert.All(t.Span.ToArray(), v => Assert.Equal(0f, v));
        _cpu.Upload(Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), t);
        var s = (CpuTensor)t.SliceRows(1, 2);
        Assert.Equal([4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f], s.Span.ToArray());
        Assert.Throws<ArgumentException>(() => _cpu.Upload(new float[11], t));
        Assert.Throws<ArgumentException>(() => _cpu.Download(t, new float[13]));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.SliceRows(2, 2));
        Assert.Throws<NotSupportedException>(() => _cpu.Allocate(1, 1, DType.BF16));
        Assert.Equal("cpu", _cpu.Name);
    }
}
