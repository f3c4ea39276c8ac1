// Rearranges a row-major [N, K] weight into WeightLayout.Interleaved16 (see Estuary.Tensors.WeightLayout) in new native memory, and
// re-encodes F16 weights as shifted-F16 codes where every value has one (see Estuary.Tensors.ShiftedHalf).
// Invariant: a permutation of the stored elements plus, for F16, an exact re-encoding, so every value is exactly the checkpoint's.
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
        bool shifted = finite && TryShiftHalves((ushort*)dst, w.Shape.NumElements);
        return new Weight(w.Name, w.DType, w.Shape, storage, 0, WeightLayout.Interleaved16) { KnownFinite = finite, IsShiftedHalf = shifted };
    }

    // Shifted-F16 code of every F16 bit pattern, or -1 where there is none (Inf, NaN, |w| ≥ 128).
    private static readonly Lazy<int[]> ShiftedCodes = new(() =>
    {
        var table = new int[65536];
        for (int h = 0; h < table.Length; h++) table[h] = ShiftedHalf.TryEncode((ushort)h, out ushort c) ? c : -1;
        return table;
    });

    // Re-encodes the F16 elements in place when every one has a shifted code; otherwise leaves them untouched and returns false.
    private static bool TryShiftHalves(ushort* h, long count)
    {
        int[] table = ShiftedCodes.Value;
        const long Slice = 1 << 20;
        long slices = (count + Slice - 1) / Slice;
        int missing = 0;
        Parallel.For(0, slices, s =>
        {
            long end = Math.Min(count, (s + 1) * Slice);
            for (long i = s * Slice; i < end; i++)
                if (table[h[i]] < 0) { Interlocked.Exchange(ref missing, 1); return; }
        });
        if (missing != 0) return false;
        Parallel.For(0, slices, s =>
        {
            long end = Math.Min(count, (s + 1) * Slice);
            for (long i = s * Slice; i < end; i++) h[i] = (ushort)table[h[i]];
        });
        return true;
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
