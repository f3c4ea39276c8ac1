// Parallel driver of PagedAttentionKernel over (sequence, KV head, row tile) triples; the backend validated shapes and block tables.
// Invariant: each (row, head) output is written by exactly one chunk; per-worker scratch (scores, key panel) is grown, never shared.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Estuary.Backend.Cpu.Kernels;
using Estuary.Backend.Cpu.Threading;
using Estuary.Tensors;

namespace Estuary.Backend.Cpu.Jobs;

/// <summary>One PagedAttention call's state; preallocated and refilled per call.</summary>
internal sealed unsafe class AttentionJob : ParallelJob
{
    private const int RowTile = 32;     // query rows per chunk: each chunk locates (or gathers) its keys once for RowTile rows × the GQA group

    private readonly float[][] _scores; // [threads][4 · PaddedKeys(maxPos + 1)]
    private readonly float[][] _keysT;  // [threads][D · PaddedKeys(maxPos + 1)] transposed key panel (block sizes not a multiple of 16)
    private readonly nint[][] _units;   // [threads][PaddedKeys(maxPos + 1) / 16] key unit addresses
    private readonly float[][] _chunkScales; // I8 caches: [threads][2 · PaddedKeys(maxPos + 1)] the chunk's key scales, then value scales
    private float[]? _ks, _vs;          // I8 caches: per-vector scales [Hkv, NumBlocks, B]
    private int[] _rowSeq = [];         // [T] sequence of each query row
    private int[] _chunks = [];         // [chunks, 4]: sequence, kv head, first row, end row
    private float[] _q = [];            // [T, Hq·D] at _qOff
    private int _qOff;
    private float[] _o = [];            // [T, Hq·D] at _oOff
    private int _oOff;
    private Array _k = Array.Empty<float>(), _v = Array.Empty<float>(); // K [Hkv, NumBlocks, D, B], V [Hkv, NumBlocks, B, D]: float[], ushort[] or sbyte[]
    private DType _dtype;
    private ForwardBatch? _b;
    private AttentionParams? _p;
    private int _maxPos;
    private int _numBlocks;
    private bool _simd;

    public AttentionJob(int threads)
    {
        _scores = new float[threads][];
        _keysT = new float[threads][];
        _units = new nint[threads][];
        _chunkScales = new float[threads][];
    }

    /// <summary>Row → sequence map to fill (length ≥ T).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int[] RowSeq(int tokens)
    {
        if (_rowSeq.Length < tokens) _rowSeq = new int[Math.Max(tokens, 2 * _rowSeq.Length)];
        return _rowSeq;
    }

    /// <summary>Fills the job and returns its chunk count: (sequence, KV head, tile of up to 32 rows) triples.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Prepare(CpuTensor q, Array k, Array v, float[]? keyScales, float[]? valueScales, DType dtype, int numBlocks, ForwardBatch b,
        AttentionParams p, CpuTensor o, int maxPos, bool simd, int threads)
    {
        if ((dtype == DType.I8) != (keyScales is not null && valueScales is not null))
            throw new ArgumentException("per-vector scales come with an I8 KV cache and only with one");
        _q = q.Data; _qOff = q.Offset; _o = o.Data; _oOff = o.Offset; _k = k; _v = v; _ks = keyScales; _vs = valueScales; _dtype = dtype; _b = b; _p = p;
        _maxPos = maxPos; _simd = simd; _numBlocks = numBlocks;
        int count = 0;
        for (int s = 0; s < b.NumSeqs; s++)
        {
            int rows = b.QueryStarts[s + 1] - b.QueryStarts[s];
            count += (rows + RowTile - 1) / RowTile * p.NumKvHeads;
        }
        if (_chunks.Length < 4 * count) _chunks = new int[Math.Max(4 * count, 2 * _chunks.Length)];
        int c = 0;
        for (int s = 0; s < b.NumSeqs; s++)
        {
            for (int r = b.QueryStarts[s]; r < b.QueryStarts[s + 1]; r += RowTile)
            {
                for (int h = 0; h < p.NumKvHeads; h++, c++)
                {
                    _chunks[4 * c] = s; _chunks[4 * c + 1] = h; _chunks[4 * c + 2] = r;
                    _chunks[4 * c + 3] = Math.Min(r + RowTile, b.QueryStarts[s + 1]);
                }
            }
        }
        return count;
    }

    /// <summary>Drops references to the call's buffers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Clear()
    {
        _q = []; _o = []; _k = Array.Empty<float>(); _v = Array.Empty<float>(); _ks = null; _vs = null; _b = null; _p = null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(int chunk, int worker)
    {
        switch (_dtype)
        {
            case DType.BF16: Execute<BF16Load>(chunk, worker); break;
            case DType.F16: Execute<F16Load>(chunk, worker); break;
            case DType.I8: Execute<I8Load>(chunk, worker); break;
            default: Execute<F32Load>(chunk, worker); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Execute<TW>(int chunk, int worker)
        where TW : struct, IWeightLoad
    {
        var b = _b!;
        var p = _p!;
        int d = p.HeadDim, hq = p.NumHeads, group = hq / p.NumKvHeads;
        int s = _chunks[4 * chunk], kvh = _chunks[4 * chunk + 1], r0 = _chunks[4 * chunk + 2], r1 = _chunks[4 * chunk + 3];
        int keys = 0;
        for (int r = r0; r < r1; r++) keys = Math.Max(keys, b.Positions[r] + 1);
        int l = PagedAttentionKernel.PaddedKeys(keys);
        int maxL = PagedAttentionKernel.PaddedKeys(_maxPos + 1);
        var scores = _scores[worker]; // [4, maxL]: one row per query of a group
        if (scores is null || scores.Length < 4 * maxL) _scores[worker] = scores = GC.AllocateArray<float>(Math.Max(4 * maxL, 1024), pinned: true);
        var units = _units[worker];
        if (units is null || units.Length < maxL / PagedAttentionKernel.KeyUnit)
            _units[worker] = units = GC.AllocateArray<nint>(Math.Max(maxL / PagedAttentionKernel.KeyUnit, 64), pinned: true);
        bool direct = PagedAttentionKernel.ReadsCacheDirectly(b.BlockSize);
        var keysT = _keysT[worker];
        if (!direct && (keysT is null || keysT.Length < d * maxL))
            _keysT[worker] = keysT = GC.AllocateArray<float>(Math.Max(d * maxL, 4096), pinned: true);
        var table = b.BlockTable(s);
        float[]? chunkScales = null;
        if (_ks is { } ks && _vs is { } vs)
        {
            chunkScales = _chunkScales[worker];
            if (chunkScales is null || chunkScales.Length < 2 * maxL) _chunkScales[worker] = chunkScales = GC.AllocateArray<float>(Math.Max(2 * maxL, 1024), pinned: true);
            int bs = b.BlockSize;
            for (int j0 = 0, block = 0; j0 < keys; j0 += bs, block++)
            {
                int at = (kvh * _numBlocks + table[block]) * bs, count = Math.Min(bs, keys - j0); // [Hkv, NumBlocks, B]
                ks.AsSpan(at, count).CopyTo(chunkScales.AsSpan(j0));
                vs.AsSpan(at, count).CopyTo(chunkScales.AsSpan(maxL + j0));
            }
        }
        fixed (float* q0 = _q, o0 = _o, sc = scores, kT = keysT, cs = chunkScales)
        fixed (byte* k0 = &MemoryMarshal.GetArrayDataReference(_k), v0 = &MemoryMarshal.GetArrayDataReference(_v))
        fixed (nint* u = units)
        {
            byte** unitPtrs = (byte**)u;
            // This KV head's slabs: K [NumBlocks, D, B] and V [NumBlocks, B, D] of the [Hkv, NumBlocks, …] arrays.
            nint slab = (nint)kvh * _numBlocks * b.BlockSize * d * TW.ElementSize;
            byte* kHead = k0 + slab, vHead = v0 + slab;
            if (direct) PagedAttentionKernel.CacheKeyUnits<TW>(kHead, table, b.BlockSize, d, keys, unitPtrs);
            else PagedAttentionKernel.GatherKeyUnits<TW>(kHead, table, b.BlockSize, d, keys, kT, unitPtrs);
            // The chunk's queries, (row, head) in order, in groups of up to 4 that share each key and value load.
            float** qs = stackalloc float*[4];
            float** os = stackalloc float*[4];
            float** ss = stackalloc float*[4];
            int* pos = stackalloc int[4];
            float* slopes = stackalloc float[4];
            for (int i = 0; i < 4; i++) ss[i] = sc + i * maxL;
            float* keyScales = cs, valueScales = cs == null ? null : cs + maxL;
            int count = 0;
            nint stride = direct ? b.BlockSize : l;
            for (int r = r0; r < r1; r++)
            {
                for (int h = kvh * group; h < (kvh + 1) * group; h++)
                {
                    nint at = (nint)r * hq * d + (nint)h * d; // element [row, h, 0] of [T, Hq, D]
                    qs[count] = q0 + _qOff + at;
                    os[count] = o0 + _oOff + at;
                    pos[count] = b.Positions[r];
                    slopes[count] = p.AlibiSlopes is { } sl ? sl[h] : 0f;
                    if (++count == 4 || (r == r1 - 1 && h == (kvh + 1) * group - 1))
                    {
                        if (direct)
                            PagedAttentionKernel.AttendGroup<TW, TW>(count, qs, os, pos, slopes, unitPtrs, stride, vHead, table, b.BlockSize,
                                d, p.Scale, ss, _simd, p.SlidingWindow, keyScales, valueScales);
                        else
                            PagedAttentionKernel.AttendGroup<F32Load, TW>(count, qs, os, pos, slopes, unitPtrs, stride, vHead, table, b.BlockSize,
                                d, p.Scale, ss, _simd, p.SlidingWindow, keyScales, valueScales);
                        count = 0;
                    }
                }
            }
        }
    }
}
