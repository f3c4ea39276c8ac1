// Parallel driver of quantized MatMul over QuantizedWeight's interleaved layout. With AVX-512 and at most 16 tokens, chunks are
// groups of 64-output units run by the fused kernels (the packed integers stream from memory once; tiles of up to 4 tokens share
// each converted vector). Otherwise chunks are (token block, unit) pairs: the unit's K-slices become an L1 F32 panel of integers
// that every token tile reuses, and the scales are applied after the sums.
// Invariant: every output is produced by exactly one chunk with QuantizedMatMulReference.RunExact's operations, so results do not
// depend on the batch, the threads or the vector width.
using System.Runtime.CompilerServices;
using Estuary.Backend.Cpu.Kernels;
using Estuary.Backend.Cpu.Threading;
using Estuary.Tensors.Quantization;

namespace Estuary.Backend.Cpu.Jobs;

/// <summary>One quantized MatMul call's state; preallocated by the backend and refilled per call (no per-call allocation).</summary>
internal sealed unsafe class QuantizedMatMulJob : ParallelJob
{
    private const int Unit = QuantizedWeight.UnitRows; // outputs per unit (4 blocks)
    private const int PanelK = 128;                    // k per panel slice: 4 blocks × 128 × 16 floats = 32 KiB
    private const int TokenBlock = 128;                // tokens per batched chunk (at most)
    private const int FusedMaxTokens = 16;             // up to this many tokens (AVX-512) the integers are used from registers
    private const int FusedTile = 4;                   // tokens per fused tile

    private readonly float[][] _panels;    // [threads][4 · PanelK · 16] integers as floats
    private readonly float[][] _groupAcc;  // [threads][TokenBlock · 64] INT4 per-group sums
    private readonly float[][] _unitOut;   // [threads][TokenBlock · 64] outputs of a unit that runs past N
    private float[] _xsum = [];            // [T, K/G] group sums of x (INT4), pinned, grown on demand
    private float* _x, _y;                 // x [T, K], y [T, N]
    private QuantizedWeight? _w;
    private int _t, _k, _n, _units, _groups, _unitsPerChunk, _tokenBlock;
    private SimdWidth _width;
    private bool _fused;

    public QuantizedMatMulJob(int threads)
    {
        _panels = new float[threads][];
        _groupAcc = new float[threads][];
        _unitOut = new float[threads][];
        for (int i = 0; i < threads; i++)
        {
            _panels[i] = GC.AllocateArray<float>(QuantizedPanelKernel.UnitBlocks * PanelK * QuantizedWeight.BlockRows, pinned: true);
            _groupAcc[i] = GC.AllocateArray<float>(TokenBlock * Unit, pinned: true);
            _unitOut[i] = GC.AllocateArray<float>(TokenBlock * Unit, pinned: true);
        }
    }

    /// <summary>
    /// Fills the job and returns its chunk count; <paramref name="px"/>, <paramref name="py"/> point to x[0, 0] and y[0, 0] and must
    /// stay fixed until the job has run. The INT4 group sums of x are computed here, once per call.
    /// </summary>
    public int Prepare(int tokens, float* px, QuantizedWeight w, float* py, SimdWidth width, int threads)
    {
        _x = px; _y = py; _w = w;
        _t = tokens; _k = w.Cols; _n = w.Rows; _groups = w.NumGroups;
        _width = width;
        _units = w.PaddedRows / Unit;
        if (w.Scheme == QuantScheme.Int4Group)
        {
            int len = tokens * _groups;
            if (_xsum.Length < len) _xsum = GC.AllocateArray<float>(Math.Max(len, 2 * _xsum.Length), pinned: true);
            fixed (float* xs = _xsum) QuantizedPanelKernel.GroupSums(px, tokens, _k, w.GroupSize, xs);
        }
        _fused = tokens <= FusedMaxTokens && width == SimdWidth.Vector512;
        if (_fused)
        {
            // About 4 chunks per thread so a thread slowed by another process hands work to the others.
            _unitsPerChunk = Math.Max(1, (_units + 4 * threads - 1) / (4 * threads));
            return (_units + _unitsPerChunk - 1) / _unitsPerChunk;
        }
        _tokenBlock = TokenBlock;
        while (_units * ((_t + _tokenBlock - 1) / _tokenBlock) < 2 * threads && _tokenBlock > 24) _tokenBlock /= 2;
        return _units * ((_t + _tokenBlock - 1) / _tokenBlock);
    }

    /// <summary>Drops references to the call's buffers.</summary>
    public void Clear()
    {
        _x = null; _y = null; _w = null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(int chunk, int worker)
    {
        if (_fused)
        {
            int u0 = chunk * _unitsPerChunk, u1 = Math.Min(_units, u0 + _unitsPerChunk);
            for (int u = u0; u < u1; u++) Fused(u, worker);
            return;
        }
        int tb = chunk / _units, unit = chunk % _units;
        int t0 = tb * _tokenBlock;
        Batched(unit, t0, Math.Min(_tokenBlock, _t - t0), worker);
    }

    // Unit u for all tokens (at most FusedMaxTokens), straight from the packed integers, in balanced tiles of at most 4 tokens
    // (later tiles re-read the unit's integers from cache).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Fused(int u, int worker)
    {
        var w = _w!;
        int n0 = u * Unit;
        bool partial = n0 + Unit > _n;
        fixed (float* spill = _unitOut[worker])
        fixed (float* xsum = _xsum)
        {
            float* y = partial ? spill : _y + n0;
            nint ldy = partial ? Unit : _n;
            nint bs = (nint)w.BlockBytes;
            byte* wu = (byte*)w.Data + (nint)u * QuantizedPanelKernel.UnitBlocks * bs;
            nint sbs = (nint)_groups * QuantizedWeight.BlockRows; // INT4 scales (and zero points) per block
            float* s8 = (float*)w.ScalesPointer + n0;             // INT8: the unit's 64 scales
            ushort* s = (ushort*)w.ScalesPointer + (nint)u * QuantizedPanelKernel.UnitBlocks * sbs;
            byte* z = (byte*)w.ZerosPointer + (nint)u * QuantizedPanelKernel.UnitBlocks * sbs;
            bool int4 = w.Scheme == QuantScheme.Int4Group;
            int tiles = (_t + FusedTile - 1) / FusedTile;
            for (int t = 0, i = 0; t < _t; i++)
            {
                int m = (_t - t + (tiles - i) - 1) / (tiles - i); // balanced: 6 → 3 + 3, 16 → 4 × 4
                float* x = _x + (nint)t * _k, yt = y + t * ldy, xs = xsum + (nint)t * _groups;
                nint pf = t == 0 ? PackedMatMulKernel.StreamPrefetchBytes : 0; // later tiles re-read the unit from cache
                if (int4)
                {
                    switch (m)
                    {
                        case 4: QuantizedDecodeKernel.Int4Tile<Tokens4>(x, _k, wu, bs, s, z, sbs, xs, _groups, _groups, w.GroupSize, yt, ldy, pf); break;
                        case 3: QuantizedDecodeKernel.Int4Tile<Tokens3>(x, _k, wu, bs, s, z, sbs, xs, _groups, _groups, w.GroupSize, yt, ldy, pf); break;
                        case 2: QuantizedDecodeKernel.Int4Tile<Tokens2>(x, _k, wu, bs, s, z, sbs, xs, _groups, _groups, w.GroupSize, yt, ldy, pf); break;
                        default: QuantizedDecodeKernel.Int4Tile<Tokens1>(x, _k, wu, bs, s, z, sbs, xs, _groups, _groups, w.GroupSize, yt, ldy, pf); break;
                    }
                }
                else
                {
                    switch (m)
                    {
                        case 4: QuantizedDecodeKernel.Int8Tile<Tokens4>(x, _k, wu, bs, _k, s8, yt, ldy, pf); break;
                        case 3: QuantizedDecodeKernel.Int8Tile<Tokens3>(x, _k, wu, bs, _k, s8, yt, ldy, pf); break;
                        case 2: QuantizedDecodeKernel.Int8Tile<Tokens2>(x, _k, wu, bs, _k, s8, yt, ldy, pf); break;
                        default: QuantizedDecodeKernel.Int8Tile<Tokens1>(x, _k, wu, bs, _k, s8, yt, ldy, pf); break;
                    }
                }
                t += m;
            }
            if (partial)
                for (int t = 0; t < _t; t++)
                    new ReadOnlySpan<float>(spill + t * Unit, _n - n0).CopyTo(new Span<float>(_y + (nint)t * _n + n0, _n - n0));
        }
    }

    // Unit u over tokens [t0, t0 + tc): per K-slice, the unit's integers become this worker's F32 panel ([4][kc][16]) and every
    // token tile runs over it. INT4 slices never cross a group: each group's sums start from +0 in _groupAcc, then combine into y.
    // INT8 sums run over all of K (partial sums parked in y between slices), then are scaled.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Batched(int u, int t0, int tc, int worker)
    {
        var w = _w!;
        int n0 = u * Unit;
        bool partial = n0 + Unit > _n;
        bool int4 = w.Scheme == QuantScheme.Int4Group;
        int sliceK = int4 ? SliceWithinGroup(w.GroupSize) : PanelK;
        nint bs = (nint)w.BlockBytes;
        byte* wu = (byte*)w.Data + (nint)u * QuantizedPanelKernel.UnitBlocks * bs;
        nint sbs = (nint)_groups * QuantizedWeight.BlockRows;
        float* s8 = (float*)w.ScalesPointer + n0;
        ushort* s = (ushort*)w.ScalesPointer + (nint)u * QuantizedPanelKernel.UnitBlocks * sbs;
        byte* z = (byte*)w.ZerosPointer + (nint)u * QuantizedPanelKernel.UnitBlocks * sbs;
        float* x = _x + (nint)t0 * _k;
        fixed (float* panel = _panels[worker])
        fixed (float* acc = _groupAcc[worker])
        fixed (float* spill = _unitOut[worker])
        fixed (float* xsum = _xsum)
        {
            float* y = partial ? spill : _y + (nint)t0 * _n + n0;
            nint ldy = partial ? Unit : _n;
            for (int k0 = 0; k0 < _k; k0 += sliceK)
            {
                int kc = Math.Min(sliceK, _k - k0);
                QuantizedPanelKernel.Dequantize(w.Scheme, wu, bs, k0, kc, panel, _width);
                byte* p = (byte*)(panel - (nint)k0 * QuantizedWeight.BlockRows); // indexed by absolute k
                nint pbs = (nint)kc * QuantizedWeight.BlockRows * sizeof(float);
                if (!int4)
                {
                    Tiles(x, tc, p, pbs, y, ldy, k0, k0 + kc, accumulate: k0 > 0);
                    continue;
                }
                int g = k0 / w.GroupSize;
                bool groupStart = k0 % w.GroupSize == 0;
                Tiles(x, tc, p, pbs, acc, Unit, k0, k0 + kc, accumulate: !groupStart);
                if ((k0 + kc) % w.GroupSize == 0)
                {
                    QuantizedPanelKernel.CombineGroup(acc, Unit, y, ldy, tc, s + 16 * g, z + 16 * g, sbs, xsum + (nint)t0 * _groups + g, _groups,
                        first: g == 0, _width);
                }
            }
            if (!int4) QuantizedPanelKernel.ScaleRows(y, ldy, tc, s8);
            if (partial)
                for (int t = 0; t < tc; t++)
                    new ReadOnlySpan<float>(spill + t * Unit, _n - n0).CopyTo(new Span<float>(_y + (nint)(t0 + t) * _n + n0, _n - n0));
        }
    }

    // The longest slice (multiple of 16, at most PanelK) that divides the group size, so no slice crosses a group boundary.
    private static int SliceWithinGroup(int groupSize)
    {
        int slice = Math.Min(PanelK, groupSize);
        while (groupSize % slice != 0) slice -= 16;
        return slice;
    }

    // The F32 outer-product tiles over the unit's panel for tokens [0, tc), k in [k0, k1).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tiles(float* x, int tc, byte* p, nint pbs, float* y, nint ldy, int k0, int k1, bool accumulate)
    {
        const int block = QuantizedWeight.BlockRows;
        switch (_width)
        {
            case SimdWidth.Vector512:
                PackedMatMulKernel.Tiles4x512<F32Load>(x, _k, tc, p, pbs, y, ldy, k0, k1, accumulate);
                break;
            case SimdWidth.Vector256:
                for (int b = 0; b < QuantizedPanelKernel.UnitBlocks; b++)
                    PackedMatMulKernel.Tiles1x256<F32Load>(x, _k, tc, p + b * pbs, y + b * block, ldy, k0, k1, accumulate);
                break;
            default:
                for (int b = 0; b < QuantizedPanelKernel.UnitBlocks; b++)
                    PackedMatMulKernel.Scalar<F32Load>(x, _k, tc, p + b * pbs, block, 1, block, y + b * block, ldy, k0, k1, accumulate);
                break;
        }
    }
}
