// Causal attention of one (query row, head) pair over a paged F32 KV cache [NumBlocks, B, Hkv, D], with optional ALiBi.
// Invariant: scores, the ALiBi bias (slope · key position) and the softmax are computed in F32; keys 0..pos are read via the block table.
using System.Runtime.CompilerServices;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Single-query paged attention; the backend parallelises over (row, head) pairs.</summary>
internal static class PagedAttentionKernel
{
    /// <summary>o[D] = softmax_j(q·k_j·scale + slope·j) · v_j over keys j = 0..pos.</summary>
    /// <param name="q">[D] query of one head.</param>
    /// <param name="kCache">Layer K [NumBlocks, B, Hkv, D].</param>
    /// <param name="vCache">Layer V [NumBlocks, B, Hkv, D].</param>
    /// <param name="blockTable">Block ids of the sequence, at least pos / B + 1 valid entries.</param>
    /// <param name="headOffset">kvHead · D: offset of the head inside a slot's [Hkv, D] row.</param>
    /// <param name="slotStride">Hkv · D.</param>
    /// <param name="scores">Scratch, at least pos + 1 floats.</param>
    /// <param name="o">[D] output.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Attend(ref float q, ref float kCache, ref float vCache, ReadOnlySpan<int> blockTable, int blockSize,
        int headOffset, int slotStride, int d, int pos, float scale, float slope, Span<float> scores, ref float o, bool simd)
    {
        int n = pos + 1;
        ref float s = ref scores[0]; // [n]
        for (int j = 0, blk = 0; j < n; blk++)
        {
            nint slot0 = (nint)blockTable[blk] * blockSize;
            int end = Math.Min(n, j + blockSize);
            for (nint slot = slot0; j < end; j++, slot++)
            {
                // Hot spot: one q·k dot per key.
                ref float k = ref Unsafe.Add(ref kCache, slot * slotStride + headOffset);
                Unsafe.Add(ref s, j) = VectorMath.Dot(ref q, ref k, d, simd) * scale + slope * j;
            }
        }
        float max = VectorMath.Max(ref s, n, simd);
        float sum = VectorMath.ExpShiftSum(ref s, n, max, simd);
        Unsafe.InitBlockUnaligned(ref Unsafe.As<float, byte>(ref o), 0, (uint)d * sizeof(float));
        for (int j = 0, blk = 0; j < n; blk++)
        {
            nint slot0 = (nint)blockTable[blk] * blockSize;
            int end = Math.Min(n, j + blockSize);
            for (nint slot = slot0; j < end; j++, slot++)
                VectorMath.Axpy(Unsafe.Add(ref s, j), ref Unsafe.Add(ref vCache, slot * slotStride + headOffset), ref o, d, simd);
        }
        VectorMath.Scale(ref o, 1f / sum, d, simd);
    }
}
