// LRU queue of free blocks as an intrusive doubly-linked list: allocate from the front, free to the back, remove any in O(1).
// Freed blocks keep their prefix hash until reused, so a later request can still hit them.
using System.Diagnostics;

namespace Estuary.Engine.KvCache;

/// <summary>Free blocks, least recently freed first.</summary>
internal sealed class FreeBlockQueue
{
    private KvBlock? _head;
    private KvBlock? _tail;

    /// <summary>Number of free blocks.</summary>
    public int Count { get; private set; }

    /// <summary>Creates the queue holding <paramref name="blocks"/> in order.</summary>
    public FreeBlockQueue(IEnumerable<KvBlock> blocks)
    {
        foreach (var b in blocks) Append(b);
    }

    /// <summary>Removes and returns the least recently freed block.</summary>
    public KvBlock PopFront()
    {
        var block = _head ?? throw new InvalidOperationException("no free KV blocks");
        Remove(block);
        return block;
    }

    /// <summary>Adds a block at the back (most recently freed).</summary>
    public void Append(KvBlock block)
    {
        Debug.Assert(!block.InFreeQueue, "block already free");
        block.PrevFree = _tail;
        block.NextFree = null;
        if (_tail != null) _tail.NextFree = block;
        else _head = block;
        _tail = block;
        block.InFreeQueue = true;
        Count++;
    }

    /// <summary>Unlinks a block from anywhere in the queue (a cache hit on a free block).</summary>
    public void Remove(KvBlock block)
    {
        Debug.Assert(block.InFreeQueue, "block not in free queue");
        if (block.PrevFree != null) block.PrevFree.NextFree = block.NextFree;
        else _head = block.NextFree;
        if (block.NextFree != null) block.NextFree.PrevFree = block.PrevFree;
        else _tail = block.PrevFree;
        block.PrevFree = block.NextFree = null;
        block.InFreeQueue = false;
        Count--;
    }
}
