// SwiGLU gate: y = silu(gate) · up with silu(g) = g / (1 + exp(-g)), elementwise in F32.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>SiluMul over a contiguous range.</summary>
internal static class SiluMulKernel
{
    /// <summary>y[i] = silu(gate[i]) · up[i] for i &lt; n; y may alias gate or up.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(ref float gate, ref float up, ref float y, int n, bool simd)
    {
        nuint i = 0;
        if (simd)
        {
            var one = Vector256<float>.One;
            nuint n8 = (nuint)(n & ~7);
            for (; i < n8; i += 8)
            {
                var g = Vector256.LoadUnsafe(ref gate, i);
                (g / (one + VectorMath.Exp(-g)) * Vector256.LoadUnsafe(ref up, i)).StoreUnsafe(ref y, i);
            }
        }
        for (; i < (nuint)n; i++)
        {
            float g = Unsafe.Add(ref gate, i);
            Unsafe.Add(ref y, i) = g / (1f + VectorMath.Exp(-g)) * Unsafe.Add(ref up, i);
        }
    }
}
