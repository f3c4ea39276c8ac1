// Embedding lookup and 1-D weight widening: a row of an F32/F16/BF16 weight copied out as F32.
using System.Runtime.CompilerServices;
using Estuary.Tensors;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Widens weight rows into F32 buffers (embedding rows, norm gammas, NormHead scales).</summary>
internal static class EmbeddingKernel
{
    /// <summary>dst[Cols] = w[row, :] widened; the caller validated row and dst length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Row(Weight w, int row, ref float dst, bool simd)
    {
        int cols = w.Cols;
        ref byte src = ref Unsafe.AsRef<byte>((void*)(w.Pointer + (nint)((long)row * cols * w.DType.SizeOf())));
        switch (w.DType)
        {
            case DType.F32: Widen.Row<F32Load>(ref src, cols, ref dst, simd); break;
            case DType.F16: Widen.Row<F16Load>(ref src, cols, ref dst, simd); break;
            case DType.BF16: Widen.Row<BF16Load>(ref src, cols, ref dst, simd); break;
            default: throw new NotSupportedException($"weight '{w.Name}' has dtype {w.DType}; the CPU backend reads F32, F16 and BF16 weights");
        }
    }
}
