// Prefix hashes of full blocks: hash(block) = SHA-256(parent hash ‖ token ids), truncated to 128 bits, chained from the first block.
using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Estuary.Engine.KvCache;

/// <summary>Identity of a full block's token prefix.</summary>
internal readonly record struct BlockHash(UInt128 Value)
{
    /// <summary>
    /// The parent of a sequence's first block: none for the base model, a per-adapter value otherwise (the adapter's cache key,
    /// never reused by a later adapter in the same slot), so the same tokens under different LoRA adapters (whose KV differs) never
    /// share blocks.
    /// </summary>
    public static BlockHash? Root(long loraCacheKey) => loraCacheKey == 0 ? null : new BlockHash(UInt128.MaxValue - (UInt128)(ulong)loraCacheKey);

    /// <summary>Hash of a block holding <paramref name="tokens"/> after the prefix <paramref name="parent"/>.</summary>
    public static BlockHash Compute(BlockHash? parent, ReadOnlySpan<int> tokens)
    {
        // Stack buffer: 16 bytes of parent hash + 4 bytes per token (B ≤ 256 keeps this under 1.1 KiB).
        Span<byte> buffer = stackalloc byte[16 + 4 * tokens.Length];
        BinaryPrimitives.WriteUInt128LittleEndian(buffer, parent?.Value ?? UInt128.MaxValue);
        for (int i = 0; i < tokens.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(buffer[(16 + 4 * i)..], tokens[i]);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(buffer, digest);
        return new BlockHash(BinaryPrimitives.ReadUInt128LittleEndian(digest));
    }
}
