// Rotary embedding, Hugging Face rotate_half layout: pairs (x[j], x[j + D/2]) of each head rotated by p·θ_j, in place; with
// partial rotary (Phi-3's partial_rotary_factor) a head is wider than D and only its first D dimensions turn.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>RoPE row kernel over all heads of one token.</summary>
internal static class RopeKernel
{
    /// <summary>x[heads·stride] rotated in place (the first D of each head) with cos/sin rows [D/2] of the token's position.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row(ref float x, int heads, int stride, int d, ref float cos, ref float sin, bool simd)
    {
        int half = d / 2;
        for (int h = 0; h < heads; h++)
        {
            ref float x1 = ref Unsafe.Add(ref x, (nint)h * stride); // [D/2] first halves
            ref float x2 = ref Unsafe.Add(ref x1, half);        // [D/2] second halves
            nuint j = 0;
            if (simd)
            {
                nuint n8 = (nuint)(half & ~7);
                for (; j < n8; j += 8)
                {
                    var a = Vector256.LoadUnsafe(ref x1, j);
                    var b = Vector256.LoadUnsafe(ref x2, j);
                    var c = Vector256.LoadUnsafe(ref cos, j);
                    var s = Vector256.LoadUnsafe(ref sin, j);
                    (a * c - b * s).StoreUnsafe(ref x1, j);
                    (b * c + a * s).StoreUnsafe(ref x2, j);
                }
            }
            for (; j < (nuint)half; j++)
            {
                float a = Unsafe.Add(ref x1, j), b = Unsafe.Add(ref x2, j);
                float c = Unsafe.Add(ref cos, j), s = Unsafe.Add(ref sin, j);
                Unsafe.Add(ref x1, j) = a * c - b * s;
                Unsafe.Add(ref x2, j) = b * c + a * s;
            }
        }
    }
}
