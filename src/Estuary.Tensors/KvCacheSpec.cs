// The geometry of a paged KV cache: per layer, K and V each laid out as [NumBlocks, B, Hkv, D].
namespace Estuary.Tensors;

/// <summary>Paged KV-cache geometry.</summary>
public sealed record KvCacheSpec(int NumLayers, int NumBlocks, int BlockSize, int NumKvHeads, int HeadDim)
{
    /// <summary>Bytes of K+V for one token across all layers, at 4 bytes per element.</summary>
    public long BytesPerToken(int bytesPerElement = 4) => 2L * NumLayers * NumKvHeads * HeadDim * bytesPerElement;

    /// <summary>Bytes of the whole cache.</summary>
    public long TotalBytes(int bytesPerElement = 4) => BytesPerToken(bytesPerElement) * NumBlocks * BlockSize;
}
