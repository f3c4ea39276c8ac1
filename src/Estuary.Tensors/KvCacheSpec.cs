// The geometry of a paged KV cache: layers × blocks of B token slots × KV heads × head dim, and the element type it is stored in
// (the layout inside a block is the backend's business).
namespace Estuary.Tensors;

/// <summary>
/// Paged KV-cache geometry and storage dtype: F32, BF16, F16, or I8 (each token's key and value of each head quantized
/// symmetrically to 8 bits with one F32 scale, like llama.cpp's q8_0 cache or LMDeploy's int8 one).
/// </summary>
public sealed record KvCacheSpec(int NumLayers, int NumBlocks, int BlockSize, int NumKvHeads, int HeadDim, DType DType = DType.F32)
{
    /// <summary>Bytes of K+V for one token across all layers (I8: the elements plus a 4-byte scale per head vector).</summary>
    public long BytesPerToken() => 2L * NumLayers * NumKvHeads * (HeadDim * DType.SizeOf() + (DType == DType.I8 ? 4 : 0));

    /// <summary>Bytes of the whole cache.</summary>
    public long TotalBytes() => BytesPerToken() * NumBlocks * BlockSize;

    /// <summary>Whether <paramref name="dtype"/> can hold a KV cache (a floating type, or I8 with per-vector scales).</summary>
    public static bool IsSupported(DType dtype) => dtype is DType.F32 or DType.BF16 or DType.F16 or DType.I8;
}
