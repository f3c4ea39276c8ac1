// All KV blocks: reference counts, the LRU free queue and the prefix-hash → block map.
// Invariants: ref counts never negative; a hashed block is in the map until it is reused for other tokens.
using System.Diagnostics;

namespace Estuary.Engine.KvCache;

/// <summary>Owns every block's metadata.</summary>
internal sealed class BlockPool
{
    private readonly KvBlock[] _blocks;
    private readonly FreeBlockQueue _free;
    private readonly Dictionary<BlockHash, KvBlock> _cached = [];

    /// <summary>Creates <paramref name="numBlocks"/> free blocks.</summary>
    public BlockPool(int numBlocks)
    {
        if (numBlocks <= 0) throw new ArgumentOutOfRangeException(nameof(numBlocks), "the KV cache needs at least one block");
        _blocks = new KvBlock[numBlocks];
        for (int i = 0; i < numBlocks; i++) _blocks[i] = new KvBlock(i);
        _free = new FreeBlockQueue(_blocks);
    }

    /// <summary>Total blocks.</summary>
    public int NumBlocks => _blocks.Length;

    /// <summary>Blocks with no user (including cached ones that may be evicted).</summary>
    public int NumFreeBlocks => _free.Count;

    /// <summary>Blocks currently holding a reusable prefix hash.</summary>
    public int NumCachedBlocks => _cached.Count;

    /// <summary>The block holding <paramref name="hash"/>, or null.</summary>
    public KvBlock? GetCached(BlockHash hash) => _cached.GetValueOrDefault(hash);

    /// <summary>Takes <paramref name="count"/> blocks from the free queue (caller checked there are enough); evicts their old hashes.</summary>
    public void Allocate(int count, List<KvBlock> into)
    {
        if (count > _free.Count) throw new InvalidOperationException($"asked for {count} KV blocks with {_free.Count} free");
        for (int i = 0; i < count; i++)
        {
            var block = _free.PopFront();
            if (block.Hash is { } h)
            {
                _cached.Remove(h);
                block.Hash = null;
            }
            Debug.Assert(block.RefCount == 0);
            block.RefCount = 1;
            into.Add(block);
        }
    }

    /// <summary>Adds a user to a cached block (taking it out of the free queue if it was free).</summary>
    public void Touch(KvBlock block)
    {
        if (block.RefCount == 0) _free.Remove(block);
        block.RefCount++;
    }

    /// <summary>Drops one user of each block; blocks reaching zero go to the back of the free queue in the order given.</summary>
    public void Free(KvBlock block)
    {
        Debug.Assert(block.RefCount > 0, "KV block freed more often than allocated");
        block.RefCount--;
        if (block.RefCount == 0) _free.Append(block);
    }

    /// <summary>Records that <paramref name="block"/> (full) holds the prefix <paramref name="hash"/>; the first block with a hash wins.</summary>
    public void Cache(KvBlock block, BlockHash hash)
    {
        if (block.Hash != null) return;
        if (_cached.ContainsKey(hash)) return;
        block.Hash = hash;
        _cached[hash] = block;
    }
}
