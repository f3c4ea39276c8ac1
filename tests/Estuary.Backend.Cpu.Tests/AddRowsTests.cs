// AddRows (LoRA deltas into selected rows): scaled add into exactly the listed rows, any order, with SIMD tails; bad input refused.
using Estuary.Backend.Cpu;

namespace Estuary.BackendCpu.Tests;

public sealed class AddRowsTests : IDisposable
{
    private readonly CpuBackend _cpu = new(2);

    public void Dispose() => _cpu.Dispose();

    [Theory]
    [InlineData(5)]
    [InlineData(64)]
    [InlineData(67)]
    public void AddsScaledRowsIntoTheListedRowsOnly(int cols)
    {
        const int rows = 6;
        var y0 = TestData.Random(rows * cols, 1);
        var x = TestData.Random(3 * cols, 2);
        int[] targets = [4, 0, 2];
        var y = TestData.Upload(_cpu, y0, rows, cols);
        _cpu.AddRows(TestData.Upload(_cpu, x, 3, cols), targets, 2.5f, y);
        var expected = (float[])y0.Clone();
        for (int i = 0; i < targets.Length; i++)
            for (int c = 0; c < cols; c++) expected[targets[i] * cols + c] = MathF.FusedMultiplyAdd(x[i * cols + c], 2.5f, expected[targets[i] * cols + c]);
        // One fused multiply-add per element, SIMD body and tail alike, so the result is exact; rows 1, 3, 5 stay untouched.
        Assert.Equal(expected, TestData.Download(_cpu, y));
    }

    [Fact]
    public void RejectsRowsOutsideYAndMismatchedShapes()
    {
        var y = _cpu.Allocate(4, 8);
        Assert.Throws<ArgumentOutOfRangeException>(() => _cpu.AddRows(_cpu.Allocate(1, 8), [4], 1f, y));
        Assert.Throws<ArgumentException>(() => _cpu.AddRows(_cpu.Allocate(2, 8), [0], 1f, y));
        Assert.Throws<ArgumentException>(() => _cpu.AddRows(_cpu.Allocate(1, 7), [0], 1f, y));
    }
}
