// Activations start on a cache line, so rows of a multiple of 16 floats all do (the packed matmul's Vector512 loads and stores of y
// then never split a line, and threads writing neighbouring 64-output blocks never share one).
using Estuary.Backend.Cpu;

namespace Estuary.BackendCpu.Tests;

public sealed class ActivationLayoutTests
{
    [Fact]
    public unsafe void AllocatedTensorsStartOnA64ByteBoundaryAndHoldExactlyTheirShape()
    {
        using var cpu = new CpuBackend(1);
        foreach (var (rows, cols) in new[] { (1, 1), (3, 64), (7, 150), (128, 2048), (0, 16) })
        {
            var t = (CpuTensor)cpu.Allocate(rows, cols);
            Assert.Equal(rows * cols, t.Span.Length);
            Assert.True(t.Offset + rows * cols <= t.Data.Length);
            if (rows * cols == 0) continue;
            fixed (float* p = t.Span) Assert.Equal(0, (long)p % 64);
            Assert.All(t.Span.ToArray(), v => Assert.Equal(0f, v));
        }
    }
}
