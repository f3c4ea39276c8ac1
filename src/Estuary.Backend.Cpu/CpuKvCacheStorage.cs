// Paged KV cache in managed memory: per layer one K array laid out [Hkv, NumBlocks, D, B] (keys transposed inside each block, so
// attention reads element d of 16 keys as one vector) and one V array laid out [Hkv, NumBlocks, B, D] (one head's values of a block
// contiguous). Head-major: one head's slab [NumBlocks, …] is contiguous, so a sequence whose blocks are consecutive (as a
// prompt's blocks, taken together from the free queue, often are) reads each head's keys and values as one long run instead of
// 1–2 KiB pieces. In the spec's dtype: float[] for F32, ushort[] bit patterns for BF16 and F16 (rounded to nearest-even when
// written), sbyte[] for I8, where each token's key and value of each head is q = round(x · 127 / max|x|), dequantized as q · s with
// s = max|x| / 127 kept in per-layer F32 arrays [Hkv, NumBlocks, B].
// Invariant: every array holds exactly NumBlocks·B·Hkv·D elements; each (head, block) is contiguous in both; a token's slot = block·B + offset.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Estuary.Tensors;

namespace Estuary.Backend.Cpu;

/// <summary>CPU-resident paged KV cache: per layer K [Hkv, NumBlocks, D, B] and V [Hkv, NumBlocks, B, D], F32, BF16, F16 or I8.</summary>
public sealed class CpuKvCacheStorage : IKvCacheStorage
{
    private Array[]? _k; // [L] float[], ushort[] or sbyte[] of NumBlocks · B · Hkv · D
    private Array[]? _v; // [L] float[], ushort[] or sbyte[] of NumBlocks · B · Hkv · D
    private float[][]? _kScales; // I8 only: [L] of [Hkv, NumBlocks, B]
    private float[][]? _vScales; // I8 only: [L] of [Hkv, NumBlocks, B]

    /// <summary>Allocates zeroed K and V arrays for every layer.</summary>
    public CpuKvCacheStorage(KvCacheSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.NumLayers <= 0 || spec.NumBlocks <= 0 || spec.BlockSize <= 0 || spec.NumKvHeads <= 0 || spec.HeadDim <= 0)
            throw new ArgumentOutOfRangeException(nameof(spec), $"KV cache spec must be positive in every dimension: {spec}");
        if (!KvCacheSpec.IsSupported(spec.DType))
            throw new ArgumentOutOfRangeException(nameof(spec), $"KV cache dtype {spec.DType} is not supported by the CPU backend (F32, BF16, F16 or I8)");
        long perLayer = (long)spec.NumBlocks * spec.BlockSize * spec.NumKvHeads * spec.HeadDim;
        if (perLayer > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(spec), $"KV cache layer of {perLayer} elements exceeds the CPU backend's per-array limit {Array.MaxLength}; use fewer blocks");
        Spec = spec;
        _k = new Array[spec.NumLayers];
        _v = new Array[spec.NumLayers];
        for (int l = 0; l < spec.NumLayers; l++)
        {
            // K [Hkv, NumBlocks, D, B] and V [Hkv, NumBlocks, B, D], row-major; see KeyIndex and ValueIndex.
            _k[l] = NewArray(spec.DType, perLayer);
            _v[l] = NewArray(spec.DType, perLayer);
        }
        if (spec.DType == DType.I8)
        {
            int vectors = spec.NumBlocks * spec.NumKvHeads * spec.BlockSize;
            _kScales = [.. Enumerable.Range(0, spec.NumLayers).Select(_ => new float[vectors])];
            _vScales = [.. Enumerable.Range(0, spec.NumLayers).Select(_ => new float[vectors])];
        }
    }

    private static Array NewArray(DType dtype, long length) => dtype switch
    {
        DType.F32 => new float[length],
        DType.I8 => new sbyte[length],
        _ => new ushort[length],
    };

    /// <inheritdoc />
    public KvCacheSpec Spec { get; }

    /// <summary>Number of token slots (NumBlocks · B).</summary>
    public int NumSlots => Spec.NumBlocks * Spec.BlockSize;

    /// <summary>K of <paramref name="layer"/> in an F32 cache: [Hkv, NumBlocks, D, B].</summary>
    public float[] Keys(int layer) => F32(KeyArray(layer));

    /// <summary>V of <paramref name="layer"/> in an F32 cache: [Hkv, NumBlocks, B, D].</summary>
    public float[] Values(int layer) => F32(ValueArray(layer));

    /// <summary>K of <paramref name="layer"/>: [Hkv, NumBlocks, D, B], float[], ushort[] or sbyte[] by dtype.</summary>
    public Array KeyArray(int layer) => Layers(_k)[CheckLayer(layer)];

    /// <summary>V of <paramref name="layer"/>: [Hkv, NumBlocks, B, D], float[], ushort[] or sbyte[] by dtype.</summary>
    public Array ValueArray(int layer) => Layers(_v)[CheckLayer(layer)];

    /// <summary>I8 caches: the scale of each key vector of <paramref name="layer"/>, [Hkv, NumBlocks, B]; null for float dtypes.</summary>
    public float[]? KeyScales(int layer) => _kScales?[CheckLayer(layer)];

    /// <summary>I8 caches: the scale of each value vector of <paramref name="layer"/>, [Hkv, NumBlocks, B]; null for float dtypes.</summary>
    public float[]? ValueScales(int layer) => _vScales?[CheckLayer(layer)];

    /// <summary>K of <paramref name="layer"/> widened to F32 (a copy; for tests and references; I8: q·s).</summary>
    public float[] ReadKeys(int layer) => Widen(KeyArray(layer), KeyScales(layer), keys: true);

    /// <summary>V of <paramref name="layer"/> widened to F32 (a copy; for tests and references; I8: q·s).</summary>
    public float[] ReadValues(int layer) => Widen(ValueArray(layer), ValueScales(layer), keys: false);

    /// <summary>Overwrites K and V of <paramref name="layer"/> (each [NumBlocks·B·Hkv·D] in the cache's own layouts), rounding to the dtype.</summary>
    public void Fill(int layer, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        if (Spec.DType == DType.I8)
        {
            FillI8(keys, (sbyte[])KeyArray(layer), KeyScales(layer)!, keys: true);
            FillI8(values, (sbyte[])ValueArray(layer), ValueScales(layer)!, keys: false);
            return;
        }
        Store(KeyArray(layer), keys);
        Store(ValueArray(layer), values);
    }

    /// <summary>
    /// q[i·stride] = round(x[i] · 127 / max|x|) (to nearest even) for i &lt; n; returns the scale s = max|x| / 127 that
    /// dequantizes q · s (0 for an all-zero vector; NaN when x holds a NaN or an infinity, which then poisons the scores or outputs
    /// that read it, as a float cache would).
    /// </summary>
    internal static unsafe float QuantizeVector(float* x, int n, sbyte* q, nint stride)
    {
        float max = 0f;
        for (int i = 0; i < n; i++) max = MathF.Max(max, MathF.Abs(x[i])); // MathF.Max propagates NaN
        if (!float.IsFinite(max))
        {
            for (int i = 0; i < n; i++) q[i * stride] = 0;
            return float.NaN;
        }
        if (max == 0f)
        {
            for (int i = 0; i < n; i++) q[i * stride] = 0;
            return 0f;
        }
        float scale = max / 127f, inverse = 127f / max;
        for (int i = 0; i < n; i++) q[i * stride] = (sbyte)Math.Clamp(MathF.Round(x[i] * inverse), -127f, 127f);
        return scale;
    }

    private unsafe void FillI8(ReadOnlySpan<float> src, sbyte[] q, float[] scales, bool keys)
    {
        if (src.Length != q.Length) throw new ArgumentException($"KV fill of {src.Length} elements for a layer of {q.Length}");
        int d = Spec.HeadDim;
        var vector = new float[d];
        fixed (sbyte* q0 = q)
        fixed (float* x = vector)
        {
            for (int slot = 0; slot < NumSlots; slot++)
            {
                for (int h = 0; h < Spec.NumKvHeads; h++)
                {
                    var (first, stride) = VectorAt(keys, slot, h);
                    for (int c = 0; c < d; c++) vector[c] = src[(int)(first + c * stride)];
                    scales[ScaleIndex(Spec, slot, h)] = QuantizeVector(x, d, q0 + first, (nint)stride);
                }
            }
        }
    }

    // Where head `head`'s key (keys: element d at first + d·B) or value (first + d) of `slot` starts in its array.
    private (long First, long Stride) VectorAt(bool keys, int slot, int head) =>
        keys ? (KeyIndex(Spec, slot, head, 0), Spec.BlockSize) : (ValueIndex(Spec, slot, head, 0), 1);

    /// <summary>Index in an I8 cache's scale arrays of head <paramref name="head"/>'s vector at <paramref name="slot"/>: [Hkv, NumBlocks, B].</summary>
    public static long ScaleIndex(KvCacheSpec spec, int slot, int head)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return ((long)head * spec.NumBlocks + slot / spec.BlockSize) * spec.BlockSize + slot % spec.BlockSize;
    }

    /// <summary>Index in the K array of element <paramref name="d"/> of head <paramref name="head"/>'s key at <paramref name="slot"/>.</summary>
    public static long KeyIndex(KvCacheSpec spec, int slot, int head, int d)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int block = slot / spec.BlockSize, offset = slot % spec.BlockSize;
        return (((long)head * spec.NumBlocks + block) * spec.HeadDim + d) * spec.BlockSize + offset;
    }

    /// <summary>Index in the V array of element <paramref name="d"/> of head <paramref name="head"/>'s value at <paramref name="slot"/>.</summary>
    public static long ValueIndex(KvCacheSpec spec, int slot, int head, int d)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int block = slot / spec.BlockSize, offset = slot % spec.BlockSize;
        return (((long)head * spec.NumBlocks + block) * spec.BlockSize + offset) * spec.HeadDim + d;
    }

    /// <summary>The stored bits of <paramref name="value"/> in a 16-bit KV dtype (round to nearest even; NaN stays NaN).</summary>
    public static ushort Narrow(float value, DType dtype) => dtype switch
    {
        DType.BF16 => NarrowBf16(value),
        DType.F16 => BitConverter.HalfToUInt16Bits((Half)value),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), $"{dtype} is not a 16-bit KV dtype"),
    };

    /// <summary>
    /// dst[0..n) = Narrow(src[0..n)) for BF16 or F16: BF16 sixteen elements per step (two Vector256) where Vector256 is
    /// accelerated (the same bits as Narrow, NaN included), F16 and the tail through Narrow.
    /// </summary>
    internal static unsafe void NarrowRun(float* src, int n, ushort* dst, DType dtype)
    {
        int i = 0;
        if (dtype == DType.BF16 && Vector256.IsHardwareAccelerated)
        {
            var one = Vector256.Create(1u);
            var half = Vector256.Create(0x7FFFu);
            var abs = Vector256.Create(0x7FFFFFFFu);
            var inf = Vector256.Create(0x7F800000u);
            var quiet = Vector256.Create(0x40u);
            for (; i + 16 <= n; i += 16)
            {
                Vector256<uint> lo = Bf16Bits(Vector256.Load((uint*)src + i), one, half, abs, inf, quiet);
                Vector256<uint> hi = Bf16Bits(Vector256.Load((uint*)src + i + 8), one, half, abs, inf, quiet);
                Vector256.Narrow(lo, hi).Store(dst + i);
            }
        }
        for (; i < n; i++) dst[i] = Narrow(src[i], dtype);
    }

    /// <summary>dst[j·stride] = Narrow(src[j]) for j in [0, n): a key's elements into its block's transposed layout.</summary>
    internal static unsafe void NarrowStrided(float* src, int n, ushort* dst, nint stride, DType dtype)
    {
        if (n <= MaxStackNarrow)
        {
            // Rounded by NarrowRun (sixteen at a time for BF16, the same bits), then scattered: element by element, BF16 ran 2 ns
            // per element.
            ushort* run = stackalloc ushort[n];
            NarrowRun(src, n, run, dtype);
            for (int j = 0; j < n; j++) dst[j * stride] = run[j];
        }
        else
            for (int j = 0; j < n; j++) dst[j * stride] = Narrow(src[j], dtype);
    }

    // Longest key NarrowStrided rounds through a stack buffer (head dims are 64–256).
    private const int MaxStackNarrow = 512;

    // BF16 bits of value: round to nearest even; NaN stays a NaN with the quiet bit set.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort NarrowBf16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        return float.IsNaN(value) ? (ushort)((bits >> 16) | 0x40) : (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    // Eight floats' BF16 bit patterns (in the low halves): round to nearest even, NaN kept as a quiet NaN, as NarrowBf16.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> Bf16Bits(Vector256<uint> bits, Vector256<uint> one, Vector256<uint> half, Vector256<uint> abs,
        Vector256<uint> inf, Vector256<uint> quiet)
    {
        Vector256<uint> rounded = (bits + half + ((bits >> 16) & one)) >> 16;
        Vector256<uint> nan = Vector256.GreaterThan(bits & abs, inf);
        return Vector256.ConditionalSelect(nan, (bits >> 16) | quiet, rounded);
    }

    /// <summary>The float a 16-bit KV element holds.</summary>
    public static float WidenElement(ushort bits, DType dtype) => dtype switch
    {
        DType.BF16 => BitConverter.UInt32BitsToSingle((uint)bits << 16),
        DType.F16 => (float)BitConverter.UInt16BitsToHalf(bits),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), $"{dtype} is not a 16-bit KV dtype"),
    };

    /// <inheritdoc />
    public void Dispose()
    {
        _k = null;
        _v = null;
        _kScales = null;
        _vScales = null;
    }

    private float[] F32(Array a) => a as float[]
        ?? throw new InvalidOperationException($"the KV cache is stored as {Spec.DType}; use ReadKeys/ReadValues for F32 copies");

    private float[] Widen(Array a, float[]? scales, bool keys)
    {
        if (a is float[] f) return (float[])f.Clone();
        if (a is sbyte[] q)
        {
            var widened = new float[q.Length];
            for (int slot = 0; slot < NumSlots; slot++)
            {
                for (int h = 0; h < Spec.NumKvHeads; h++)
                {
                    float s = scales![ScaleIndex(Spec, slot, h)];
                    var (first, stride) = VectorAt(keys, slot, h);
                    for (int c = 0; c < Spec.HeadDim; c++) widened[first + c * stride] = q[first + c * stride] * s;
                }
            }
            return widened;
        }
        var u = (ushort[])a;
        var result = new float[u.Length];
        for (int i = 0; i < u.Length; i++) result[i] = WidenElement(u[i], Spec.DType);
        return result;
    }

    private void Store(Array a, ReadOnlySpan<float> src)
    {
        if (src.Length != a.Length) throw new ArgumentException($"KV fill of {src.Length} elements for a layer of {a.Length}");
        if (a is float[] f)
        {
            src.CopyTo(f);
            return;
        }
        var u = (ushort[])a;
        for (int i = 0; i < u.Length; i++) u[i] = Narrow(src[i], Spec.DType);
    }

    private static Array[] Layers(Array[]? arrays) => arrays ?? throw new ObjectDisposedException(nameof(CpuKvCacheStorage));

    private int CheckLayer(int layer) => (uint)layer < (uint)Spec.NumLayers
        ? layer
        : throw new ArgumentOutOfRangeException(nameof(layer), $"layer {layer} outside KV cache of {Spec.NumLayers} layers");
}
