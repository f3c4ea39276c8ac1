// The KV cache memory a backend allocates for a model; layers are addressed by index.
namespace Estuary.Tensors;

/// <summary>Backend-owned paged KV-cache memory: per layer K and V for NumBlocks blocks of B slots × Hkv heads × D (layout the backend's).</summary>
public interface IKvCacheStorage : IDisposable
{
    /// <summary>Geometry.</summary>
    KvCacheSpec Spec { get; }
}

/// <summary>One layer of a KV cache.</summary>
public readonly record struct KvLayer(IKvCacheStorage Storage, int Layer);
