// Rearranges a row-major [N, K] weight into WeightLayout.Interleaved16 (see Estuary.Tensors.WeightLayout) in new native memory.
// Invariant: a pure permutation of the stored elements (no conversion), so every value is exactly the checkpoint's.
using Estuary.Tensors;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Weight layout conversion at load time.</summary>
internal static unsafe class WeightPacking
{
    /// <summary>A copy of row-major <paramref name="w"/> in the Interleaved16 layout; the blocks are filled in parallel.</summary>
    public static Weight Interleave16(Weight w)
    {
        int n = w.Rows, k = w.Cols, size = w.DType.SizeOf();
        int blocks = n / PackedMatMulKernel.Block;
        var storage = new NativeWeightStorage(w.ByteLength, zeroed: false);
        byte* src = (byte*)w.Pointer, dst = (byte*)storage.Pointer;
        long blockBytes = (long)PackedMatMulKernel.Block * k * size;
        Parallel.For(0, blocks, b =>
        {
            byte* s = src + b * blockBytes, d = dst + b * blockBytes;
            switch (size)
            {
                case 2: Block((ushort*)s, (ushort*)d, k); break;
                case 4: Block((uint*)s, (uint*)d, k); break;
                default: throw new NotSupportedException($"weight '{w.Name}': cannot interleave {size}-byte elements");
            }
        });
        long tailOffset = blocks * blockBytes;
        Buffer.MemoryCopy(src + tailOffset, dst + tailOffset, w.ByteLength - tailOffset, w.ByteLength - tailOffset);
        bool finite = w.DType == DType.F16 && F16FiniteLoad.AllFinite((ushort*)dst, w.Shape.NumElements);
        return new Weight(w.Name, w.DType, w.Shape, storage, 0, WeightLayout.Interleaved16) { KnownFinite = finite };
    }

    // d[16k + j] = s[j·K + k] for the 16 rows of one block.
    private static void Block<T>(T* s, T* d, int k)
        where T : unmanaged
    {
        for (int c = 0; c < k; c++)
        {
            T* o = d + (long)c * PackedMatMulKernel.Block;
            for (int j = 0; j < PackedMatMulKernel.Block; j++) o[j] = s[(long)j * k + c];
        }
    }
}
