// Row-wise elementwise ops: x += y, y[:, n] *= scales[n]; contiguous F32 with a scalar tail.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Add and ScaleColumns on contiguous spans (row copies for GatherRows use Span.CopyTo).</summary>
internal static class RowOpsKernels
{
    /// <summary>x[i] += y[i] for i &lt; n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    /// <summary>y[i] += scale · x[i] for i &lt; x.Length (LoRA deltas into their rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddScaled(ReadOnlySpan<float> x, float scale, Span<float> y)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(scale);
            ref float xr = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
            ref float yr = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(y);
            for (; i + 8 <= x.Length; i += 8)
                Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref xr, (nuint)i), s, Vector256.LoadUnsafe(ref yr, (nuint)i)).StoreUnsafe(ref yr, (nuint)i);
        }
        for (; i < x.Length; i++) y[i] = MathF.FusedMultiplyAdd(x[i], scale, y[i]);
    }
}
