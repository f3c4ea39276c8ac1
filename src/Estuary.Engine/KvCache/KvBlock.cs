// One KV-cache block's bookkeeping: reference count, optional prefix hash, and links in the free queue.
// Invariant: RefCount ≥ 0; a block is in the free queue exactly when RefCount == 0.
namespace Estuary.Engine.KvCache;

/// <summary>Metadata of one physical KV block.</summary>
internal sealed class KvBlock(int id)
{
    /// <summary>Index of the block in the cache tensors.</summary>
    public int Id { get; } = id;

    /// <summary>Number of sequences using the block.</summary>
    public int RefCount { get; set; }

    /// <summary>Hash of the token prefix ending with this (full) block, when cached for reuse.</summary>
    public BlockHash? Hash { get; set; }

    /// <summary>Previous block in the free queue.</summary>
    public KvBlock? PrevFree { get; set; }

    /// <summary>Next block in the free queue.</summary>
    public KvBlock? NextFree { get; set; }

    /// <summary>Whether the block is linked into the free queue.</summary>
    public bool InFreeQueue { get; set; }
}
