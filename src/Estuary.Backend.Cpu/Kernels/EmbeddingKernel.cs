// Embedding lookup and 1-D weight widening: a row of an F32/F16/BF16 weight (row-major or Interleaved16) copied out as F32.
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
        // Rearranged rows are strided; the row-major tail of a rearranged F16 table may be re-encoded (shifted halves) as well.
        if (w.Layout == WeightLayout.Interleaved16 && (row < w.Rows / 16 * 16 || w.IsShiftedHalf))
        {
            InterleavedRow(w, row, ref dst);
            return;
        }
        ref byte src = ref Unsafe.AsRef<byte>((void*)(w.Pointer + (nint)((long)row * cols * w.DType.SizeOf())));
        switch (w.DType)
        {
            case DType.F32: Widen.Row<F32Load>(ref src, cols, ref dst, simd); break;
            case DType.F16: Widen.Row<F16Load>(ref src, cols, ref dst, simd); break;
            case DType.BF16: Widen.Row<BF16Load>(ref src, cols, ref dst, simd); break;
            default: throw new NotSupportedException($"weight '{w.Name}' has dtype {w.DType}; the CPU backend reads F32, F16 and BF16 weights");
        }
    }

    // A row of an Interleaved16 table (a tied LM head's embedding, rearranged for the matmul): element c of row r < 16·⌊Rows/16⌋
    // sits in block r / 16 at position c·16 + r % 16, so the row is read with a stride of 16 elements (F32, BF16); F16 rows,
    // perhaps shifted halves, decode through the weight itself. One row per token: scalar is enough.
    private static unsafe void InterleavedRow(Weight w, int row, ref float dst)
    {
        int cols = w.Cols, lane = row % 16;
        long start = (long)(row / 16) * 16 * cols + lane;
        switch (w.DType)
        {
            case DType.F32:
                float* f = (float*)w.Pointer + start;
                for (int c = 0; c < cols; c++) Unsafe.Add(ref dst, c) = f[(long)c * 16];
                break;
            case DType.BF16:
                ushort* b = (ushort*)w.Pointer + start;
                for (int c = 0; c < cols; c++) Unsafe.Add(ref dst, c) = BitConverter.Int32BitsToSingle(b[(long)c * 16] << 16);
                break;
            default:
                // F16, possibly re-encoded as shifted halves: the weight decodes its own elements.
                long first = (long)row * cols;
                for (int c = 0; c < cols; c++) Unsafe.Add(ref dst, c) = w.GetFloat(first + c);
                break;
        }
    }
}
