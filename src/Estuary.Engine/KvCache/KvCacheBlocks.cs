// Blocks found in the prefix cache for a new sequence (vLLM's KVCacheBlocks): passed from GetComputedBlocks to TryAllocateSlots.
namespace Estuary.Engine.KvCache;

/// <summary>Cached full blocks covering a sequence's leading tokens.</summary>
internal readonly record struct KvCacheBlocks(IReadOnlyList<KvBlock> Blocks)
{
    /// <summary>No cached blocks.</summary>
    public static KvCacheBlocks Empty { get; } = new([]);

    /// <summary>Number of blocks.</summary>
    public int Count => Blocks?.Count ?? 0;
}
