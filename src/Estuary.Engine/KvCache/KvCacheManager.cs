// The scheduler's only view of the KV cache: GetComputedBlocks / TryAllocateSlots (false ⇒ preempt or wait) / Free.
// Invariant: a sequence's Blocks cover at least the tokens it holds (exactly ceil(tokens / B), plus at most the blocks of drafts it
// verified and rejected, which later tokens fill); after every sequence is freed, all blocks are free.
namespace Estuary.Engine.KvCache;

/// <summary>Block allocation and prefix caching for sequences.</summary>
internal sealed class KvCacheManager
{
    private readonly BlockPool _pool;
    private readonly int[] _hashScratch;

    /// <summary>Creates a manager over <paramref name="numBlocks"/> blocks of <paramref name="blockSize"/> tokens.</summary>
    public KvCacheManager(int numBlocks, int blockSize, bool enablePrefixCaching)
    {
        if (blockSize is <= 0 or > 256) throw new ArgumentOutOfRangeException(nameof(blockSize), "block size must be in [1, 256]");
        _pool = new BlockPool(numBlocks);
        BlockSize = blockSize;
        EnablePrefixCaching = enablePrefixCaching;
        _hashScratch = new int[blockSize];
    }

    /// <summary>B.</summary>
    public int BlockSize { get; }
    /// <summary>Whether full blocks are shared between sequences with the same prefix.</summary>
    public bool EnablePrefixCaching { get; }
    /// <summary>Total blocks.</summary>
    public int NumBlocks => _pool.NumBlocks;
    /// <summary>Free blocks (cached-but-unused ones count as free).</summary>
    public int NumFreeBlocks => _pool.NumFreeBlocks;
    /// <summary>Blocks in use.</summary>
    public int NumUsedBlocks => _pool.NumBlocks - _pool.NumFreeBlocks;

    /// <summary>Blocks needed to hold <paramref name="numTokens"/> tokens.</summary>
    public int BlocksFor(int numTokens) => (numTokens + BlockSize - 1) / BlockSize;

    /// <summary>The longest run of cached full blocks matching the sequence's tokens (never the whole sequence: one token is always computed).</summary>
    public KvCacheBlocks GetComputedBlocks(Sequence seq)
    {
        if (!EnablePrefixCaching || seq.Blocks.Count > 0 || seq.NeedsPromptLogprobs) return KvCacheBlocks.Empty;
        int maxBlocks = (seq.NumTokens - 1) / BlockSize;
        EnsureHashes(seq, maxBlocks);
        List<KvBlock>? hits = null;
        for (int i = 0; i < maxBlocks; i++)
        {
            var block = _pool.GetCached(seq.BlockHashes[i]);
            if (block == null) break;
            (hits ??= []).Add(block);
        }
        return hits == null ? KvCacheBlocks.Empty : new KvCacheBlocks(hits);
    }

    /// <summary>
    /// Makes room for <paramref name="numNewTokens"/> more tokens after the computed ones (after the cached prefix for a new
    /// sequence). Returns false, changing nothing, when there are not enough free blocks.
    /// </summary>
    public bool TryAllocateSlots(Sequence seq, int numNewTokens, KvCacheBlocks computed = default)
    {
        int numComputedBlocks = computed.Count;
        int computedTokens = seq.Blocks.Count == 0 ? numComputedBlocks * BlockSize : seq.NumComputedTokens;
        int needed = BlocksFor(computedTokens + numNewTokens) - seq.Blocks.Count - numComputedBlocks;
        int evictableHits = 0;
        for (int i = 0; i < numComputedBlocks; i++)
            if (computed.Blocks[i].RefCount == 0) evictableHits++;
        if (Math.Max(needed, 0) + evictableHits > _pool.NumFreeBlocks) return false;
        if (numComputedBlocks > 0)
        {
            foreach (var block in computed.Blocks)
            {
                _pool.Touch(block);
                seq.Blocks.Add(block);
            }
            seq.NumComputedTokens = computedTokens;
            seq.NumCachedTokens = computedTokens;
            seq.NumBlocksOfferedToCache = numComputedBlocks;
        }
        if (needed > 0) _pool.Allocate(needed, seq.Blocks);
        return true;
    }

    /// <summary>Offers the sequence's newly completed full blocks to the prefix cache (after its computed count advanced).</summary>
    public void CacheFullBlocks(Sequence seq)
    {
        if (!EnablePrefixCaching) return;
        int numFull = Math.Min(seq.NumComputedTokens / BlockSize, seq.Blocks.Count);
        if (numFull <= seq.NumBlocksOfferedToCache) return;
        EnsureHashes(seq, numFull);
        for (int i = seq.NumBlocksOfferedToCache; i < numFull; i++) _pool.Cache(seq.Blocks[i], seq.BlockHashes[i]);
        seq.NumBlocksOfferedToCache = numFull;
    }

    /// <summary>Releases all of the sequence's blocks (last block first, so a prefix's tail is evicted before its head).</summary>
    public void Free(Sequence seq)
    {
        for (int i = seq.Blocks.Count - 1; i >= 0; i--) _pool.Free(seq.Blocks[i]);
        seq.Blocks.Clear();
        seq.NumBlocksOfferedToCache = 0;
    }

    // Extends the sequence's chained block hashes to cover its first numBlocks full blocks of known tokens.
    private void EnsureHashes(Sequence seq, int numBlocks)
    {
        for (int i = seq.BlockHashes.Count; i < numBlocks; i++)
        {
            for (int j = 0; j < BlockSize; j++) _hashScratch[j] = seq.TokenAt(i * BlockSize + j);
            BlockHash? parent = i == 0 ? BlockHash.Root(seq.LoraCacheKey) : seq.BlockHashes[i - 1];
            seq.BlockHashes.Add(BlockHash.Compute(parent, _hashScratch));
        }
    }
}
