// TryAddLoraDeltas (all adapters of a linear in one call, a segment per thread) against the per-adapter operations it replaces:
// bit-identical outputs for row-major and interleaved factors, F32 and BF16, decode- and prefill-sized segments; clear errors.
using Estuary.Backend.Cpu;
using Estuary.Tensors;

namespace Estuary.BackendCpu.Tests;

public sealed class LoraDeltaTests : IDisposable
{
    private readonly CpuBackend _cpu = new(2);

    public void Dispose() => _cpu.Dispose();

    [Theory]
    [InlineData(DType.F32, 8, 7, 40)]     // rank 8: A stays row-major (fewer than 16 rows)
    [InlineData(DType.BF16, 32, 7, 40)]   // rank 32: both factors interleaved
    [InlineData(DType.F16, 16, 12, 70)]
    [InlineData(DType.BF16, 24, 90, 150)] // 30 rows per adapter: the prefill (panel) kernels
    public void CombinedCallEqualsThePerAdapterOperationsBitForBit(DType dtype, int rank, int tokens, int outFeatures)
    {
        const int k = 48;
        var x = TestData.Upload(_cpu, TestData.Random(tokens * k, 1), tokens, k);
        var baseY = TestData.Random(tokens * outFeatures, 2);
        // Three adapters owning interleaved rows (t mod 4 = 1, 2, 3); rows with t mod 4 = 0 stay on the base model.
        var segments = new List<LoraSegment>();
        var rows = new List<int>();
        for (int a = 1; a <= 3; a++)
        {
            int start = rows.Count;
            for (int t = 0; t < tokens; t++) if (t % 4 == a) rows.Add(t);
            var factorA = _cpu.PrepareLinear(TestData.MakeWeight(TestData.Random(rank * k, 10 + a, 0.2f), dtype, rank, k));
            var factorB = _cpu.PrepareLinear(TestData.MakeWeight(TestData.Random(outFeatures * rank, 20 + a, 0.2f), dtype, outFeatures, rank));
            segments.Add(new LoraSegment(start, rows.Count - start, factorA, factorB, 0.5f * a));
        }

        var combined = TestData.Upload(_cpu, baseY, tokens, outFeatures);
        Assert.True(_cpu.TryAddLoraDeltas(x, rows.ToArray(), segments.ToArray(), combined));

        var separate = TestData.Upload(_cpu, baseY, tokens, outFeatures);
        foreach (var s in segments)
        {
            var selected = rows.GetRange(s.Start, s.Count).ToArray();
            var xa = _cpu.Allocate(s.Count, k);
            _cpu.GatherRows(x, selected, xa);
            var down = _cpu.Allocate(s.Count, rank);
            _cpu.MatMul(xa, s.A, down);
            var up = _cpu.Allocate(s.Count, outFeatures);
            _cpu.MatMul(down, s.B, up);
            _cpu.AddRows(up, selected, s.Scale, separate);
        }

        var expected = TestData.Download(_cpu, separate);
        var actual = TestData.Download(_cpu, combined);
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(actual[i]));
        for (int t = 0; t < tokens; t += 4) // base rows untouched
            for (int n = 0; n < outFeatures; n++) Assert.Equal(baseY[t * outFeatures + n], actual[t * outFeatures + n]);
    }

    // x [rows, 8], y [rows, 16] and zero rank-4 factors A [4, 8], B [16, 4].
    private (DeviceTensor X, DeviceTensor Y, Weight A, Weight B) Small(int rows) =>
        (_cpu.Allocate(rows, 8), _cpu.Allocate(rows, 16),
         TestData.MakeWeight(new float[4 * 8], DType.F32, 4, 8), TestData.MakeWeight(new float[16 * 4], DType.F32, 16, 4));

    [Fact]
    public void FewerSegmentsThanThreadsAreLeftToTheCaller()
    {
        var (x, y, a, b) = Small(2);
        Assert.False(_cpu.TryAddLoraDeltas(x, [0, 1], [new LoraSegment(0, 2, a, b, 1f)], y));
    }

    [Fact]
    public void BadSegmentsAreRefusedWithAMessageNamingTheProblem()
    {
        var (x, y, a, b) = Small(3);
        var wrongB = TestData.MakeWeight(new float[12 * 4], DType.F32, 12, 4);
        var e = Assert.Throws<ArgumentException>(() => _cpu.TryAddLoraDeltas(x, [0, 1, 1], [new(0, 2, a, b, 1f), new(2, 1, a, b, 1f)], y));
        Assert.Contains("row 1 appears twice", e.Message);
        e = Assert.Throws<ArgumentException>(() => _cpu.TryAddLoraDeltas(x, [0, 1], [new(0, 1, a, b, 1f), new(1, 1, a, wrongB, 1f)], y));
        Assert.Contains("do not map", e.Message);
        var r = Assert.Throws<ArgumentOutOfRangeException>(() => _cpu.TryAddLoraDeltas(x, [0, 7], [new(0, 1, a, b, 1f), new(1, 1, a, b, 1f)], y));
        Assert.Contains("row 7 outside", r.Message);
        r = Assert.Throws<ArgumentOutOfRangeException>(() => _cpu.TryAddLoraDeltas(x, [0, 1], [new(0, 1, a, b, 1f), new(1, 2, a, b, 1f)], y));
        Assert.Contains("segment", r.Message);
    }
}
