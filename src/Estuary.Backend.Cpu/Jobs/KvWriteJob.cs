// Parallel driver of WriteKv: chunks are runs of rows. Every row goes to its own slot, so two chunks never write the same cache
// element; a small batch (decode) runs inline on the calling thread.
// Invariant: each stored element depends only on its row's k or v value (the rounding does not depend on the chunking).
using System.Runtime.CompilerServices;
using Estuary.Backend.Cpu.Threading;
using Estuary.Tensors;

namespace Estuary.Backend.Cpu.Jobs;

/// <summary>One WriteKv call's state; preallocated by the backend and refilled per call.</summary>
internal sealed unsafe class KvWriteJob : ParallelJob
{
    // Rows per chunk at least: a row of llama-110m is 12 heads × 64 keys and values, about 0.3 µs of work, so waking a worker
    // pays from a few dozen rows on.
    private const int MinRowsPerChunk = 32;

    private CpuTensor? _k, _v;            // [T, Hkv·D] each
    private KvCacheSpec? _spec;
    private Array _kCache = Array.Empty<float>(), _vCache = Array.Empty<float>(); // the layer's K [Hkv, NumBlocks, D, B], V [Hkv, NumBlocks, B, D]
    private float[]? _kScales, _vScales;  // I8 only: [Hkv, NumBlocks, B]
    private int _rowsPerChunk, _rows;
    private int[] _slots = [];            // [≥ T] cache slot of each row, −1 = skip

    /// <summary>Fills the job and returns its chunk count; the slots must already be checked against the cache.</summary>
    public int Prepare(CpuTensor k, CpuTensor v, CpuKvCacheStorage cache, int layer, int[] slots, int threads)
    {
        _k = k; _v = v; _slots = slots; _rows = k.Rows;
        _spec = cache.Spec;
        _kCache = cache.KeyArray(layer); _vCache = cache.ValueArray(layer);
        _kScales = cache.KeyScales(layer); _vScales = cache.ValueScales(layer);
        int chunks = Math.Clamp(_rows / MinRowsPerChunk, 1, 2 * threads);
        _rowsPerChunk = (_rows + chunks - 1) / chunks;
        return _rows == 0 ? 0 : (_rows + _rowsPerChunk - 1) / _rowsPerChunk;
    }

    /// <summary>Drops references to the call's buffers.</summary>
    public void Clear()
    {
        _k = null; _v = null; _spec = null; _kCache = _vCache = Array.Empty<float>(); _kScales = _vScales = null; _slots = [];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(int chunk, int worker)
    {
        int t0 = chunk * _rowsPerChunk, t1 = Math.Min(_rows, t0 + _rowsPerChunk);
        for (int t = t0; t < t1; t++)
            if (_slots[t] >= 0) WriteRow(t, _slots[t]);
    }

    // Head h of row t (elements h·D .. h·D + D − 1): its key goes to [h, block, d, offset] (one element per B), its value to
    // [h, block, offset, d] (a run of D).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteRow(int t, int slot)
    {
        var spec = _spec!;
        Array ka = _kCache, va = _vCache;
        float[]? ks = _kScales, vs = _vScales;
        int bs = spec.BlockSize, d = spec.HeadDim;
        fixed (float* kSrc = _k!.Row(t), vSrc = _v!.Row(t))
        {
            for (int h = 0; h < spec.NumKvHeads; h++)
            {
                long kAt = CpuKvCacheStorage.KeyIndex(spec, slot, h, 0), vAt = CpuKvCacheStorage.ValueIndex(spec, slot, h, 0);
                float* kh = kSrc + h * d, vh = vSrc + h * d;
                switch (ka)
                {
                    case float[] kf:
                        fixed (float* kDst = &kf[kAt])
                            for (int c = 0; c < d; c++) kDst[(nint)c * bs] = kh[c];
                        new ReadOnlySpan<float>(vh, d).CopyTo(((float[])va).AsSpan((int)vAt, d));
                        break;
                    case sbyte[] k8:
                        long at = CpuKvCacheStorage.ScaleIndex(spec, slot, h);
                        fixed (sbyte* kDst = &k8[kAt], vDst = &((sbyte[])va)[vAt])
                        {
                            ks![at] = CpuKvCacheStorage.QuantizeVector(kh, d, kDst, bs);
                            vs![at] = CpuKvCacheStorage.QuantizeVector(vh, d, vDst, 1);
                        }
                        break;
                    default:
                        fixed (ushort* kDst = &((ushort[])ka)[kAt], vDst = &((ushort[])va)[vAt])
                        {
                            CpuKvCacheStorage.NarrowStrided(kh, d, kDst, bs, spec.DType);
                            CpuKvCacheStorage.NarrowRun(vh, d, vDst, spec.DType);
                        }
                        break;
                }
            }
        }
    }
}
