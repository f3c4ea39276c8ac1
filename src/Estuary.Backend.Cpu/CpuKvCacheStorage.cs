// Paged KV cache in managed memory: per layer one K and one V float[] laid out [NumBlocks, B, Hkv, D] (F32).
// Invariant: every array holds exactly NumBlocks·B·Hkv·D floats; a token's slot = block·B + offset indexes its [Hkv, D] row.
using Estuary.Tensors;

namespace Estuary.Backend.Cpu;

/// <summary>CPU-resident paged KV cache: K and V per layer, each [NumBlocks, B, Hkv, D] F32.</summary>
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
            // Layout per layer: [NumBlocks, B, Hkv, D] F32, row-major; slot s starts at s · Hkv · D.
            _k[l] = new float[perLayer];
            _v[l] = new float[perLayer];
        }
    }

    /// <inheritdoc />
    public KvCacheSpec Spec { get; }

    /// <summary>Number of token slots (NumBlocks · B).</summary>
    public int NumSlots => Spec.NumBlocks * Spec.BlockSize;

    /// <summary>K of <paramref name="layer"/>: [NumBlocks, B, Hkv, D].</summary>
    public float[] Keys(int layer) => Layers(_k)[CheckLayer(layer)];

    /// <summary>V of <paramref name="layer"/>: [NumBlocks, B, Hkv, D].</summary>
    public float[] Values(int layer) => Layers(_v)[CheckLayer(layer)];

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
