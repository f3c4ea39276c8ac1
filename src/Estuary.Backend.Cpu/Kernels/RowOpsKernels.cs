// Row-wise elementwise ops: x += y, y[:, n] *= scales[n]; contiguous F32 with a scalar tail.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Add and ScaleColumns on contiguous spans (row copies for GatherRows use Span.CopyTo).</summary>
internal static class RowOpsKernels
{
    /// <summary>x[i] += y[i] for i &lt; n.</summary>
    public static void Add(ref float x, ref float y, int n, bool simd)
    {
        nuint i = 0;
        if (simd)
        {
            nuint n8 = (nuint)(n & ~7);
            for (; i < n8; i += 8) (Vector256.LoadUnsafe(ref x, i) + Vector256.LoadUnsafe(ref y, i)).StoreUnsafe(ref x, i);
        }
        for (; i < (nuint)n; i++) Unsafe.Add(ref x, i) += Unsafe.Add(ref y, i);
    }

    /// <summary>row[i] *= scales[i] for i &lt; n.</summary>
    public static void Mul(ref float row, ref float scales, int n, bool simd)
    {
        nuint i = 0;
        if (simd)
        {
            nuint n8 = (nuint)(n & ~7);
            for (; i < n8; i += 8) (Vector256.LoadUnsafe(ref row, i) * Vector256.LoadUnsafe(ref scales, i)).StoreUnsafe(ref row, i);
        }
        for (; i < (nuint)n; i++) Unsafe.Add(ref row, i) *= Unsafe.Add(ref scales, i);
    }
}
