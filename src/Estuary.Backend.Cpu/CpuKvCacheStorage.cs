// Paged KV cache in managed memory: per layer one K float[] laid out [NumBlocks, Hkv, D, B] (keys transposed inside each block, so
// attention reads 16 keys' element d as one vector) and one V float[] laid out [NumBlocks, B, Hkv, D] (F32).
// Invariant: every array holds exactly NumBlocks·B·Hkv·D floats; each block is contiguous in both; a token's slot = block·B + offset.
using Estuary.Tensors;

namespace Estuary.Backend.Cpu;

/// <summary>CPU-resident paged KV cache: per layer K [NumBlocks, Hkv, D, B] and V [NumBlocks, B, Hkv, D], F32.</summary>
public sealed class CpuKvCacheStorage : IKvCacheStorage
{
    private float[][]? _k; // [L][NumBlocks · B · Hkv · D]
    private float[][]? _v; // [L][NumBlocks · B · Hkv · D]

    /// <summary>Allocates zeroed K and V arrays for every layer.</summary>
    public CpuKvCacheStorage(KvCacheSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.NumLayers <= 0 || spec.NumBlocks <= 0 || spec.BlockSize <= 0 || spec.NumKvHeads <= 0 || spec.HeadDim <= 0)
            throw new ArgumentOutOfRangeException(nameof(spec), $"KV cache spec must be positive in every dimension: {spec}");
        long perLayer = (long)spec.NumBlocks * spec.BlockSize * spec.NumKvHeads * spec.HeadDim;
        if (perLayer > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(spec), $"KV cache layer of {perLayer} floats exceeds the CPU backend's per-array limit {Array.MaxLength}; use fewer blocks");
        Spec = spec;
        _k = new float[spec.NumLayers][];
        _v = new float[spec.NumLayers][];
        for (int l = 0; l < spec.NumLayers; l++)
        {
            // K [NumBlocks, Hkv, D, B] and V [NumBlocks, B, Hkv, D], F32, row-major; see KeyIndex and ValueIndex.
            _k[l] = new float[perLayer];
            _v[l] = new float[perLayer];
        }
    }

    /// <inheritdoc />
    public KvCacheSpec Spec { get; }

    /// <summary>Number of token slots (NumBlocks · B).</summary>
    public int NumSlots => Spec.NumBlocks * Spec.BlockSize;

    /// <summary>K of <paramref name="layer"/>: [NumBlocks, Hkv, D, B].</summary>
    public float[] Keys(int layer) => Layers(_k)[CheckLayer(layer)];

    /// <summary>V of <paramref name="layer"/>: [NumBlocks, B, Hkv, D].</summary>
    public float[] Values(int layer) => Layers(_v)[CheckLayer(layer)];

    /// <summary>Index in <see cref="Keys"/> of element <paramref name="d"/> of head <paramref name="head"/>'s key at <paramref name="slot"/>.</summary>
    public static long KeyIndex(KvCacheSpec spec, int slot, int head, int d)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int block = slot / spec.BlockSize, offset = slot % spec.BlockSize;
        return (((long)block * spec.NumKvHeads + head) * spec.HeadDim + d) * spec.BlockSize + offset;
    }

    /// <summary>Index in <see cref="Values"/> of element <paramref name="d"/> of head <paramref name="head"/>'s value at <paramref name="slot"/>.</summary>
    public static long ValueIndex(KvCacheSpec spec, int slot, int head, int d)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return ((long)slot * spec.NumKvHeads + head) * spec.HeadDim + d;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _k = null;
        _v = null;
    }

    private static float[][] Layers(float[][]? arrays) => arrays ?? throw new ObjectDisposedException(nameof(CpuKvCacheStorage));

    private int CheckLayer(int layer) => (uint)layer < (uint)Spec.NumLayers
        ? layer
        : throw new ArgumentOutOfRangeException(nameof(layer), $"layer {layer} outside KV cache of {Spec.NumLayers} layers");
}
