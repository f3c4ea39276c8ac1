// Parallel driver of quantized MatMul over QuantizedWeight's interleaved layout, in two phases. Phase 1 quantizes the activations
// once per call into 16-bit block integers (ActivationQuantizer, token ranges in parallel). Phase 2's chunks are (token block,
// 64-row unit) pairs; inside a chunk K runs in slices of about 16 KiB of the unit's weights, each slice streamed from memory by the
// first token (pair) and re-read from L1 by the others, through QuantizedDotKernel's integer tiles.
// Invariant: every output is produced by exactly one chunk with QuantizedMatMulReference.RunExact's operations, so results do not
// depend on the batch, the threads or whether the VNNI tiles run.
using System.Runtime.CompilerServices;
using Estuary.Backend.Cpu.Kernels;
using Estuary.Backend.Cpu.Threading;
using Estuary.Tensors.Quantization;

namespace Estuary.Backend.Cpu.Jobs;

/// <summary>One quantized MatMul call's state; preallocated by the backend and refilled per call (no per-call allocation).</summary>
internal sealed unsafe class QuantizedMatMulJob : ParallelJob
{
    private const int Unit = QuantizedDotKernel.TileRows; // outputs per tile (4 blocks)
    private const int TokenBlock = 64;                    // tokens per chunk (at most)
    private const int SliceBytes = 16 << 10;              // unit weight bytes per K slice
    private const int MinQuantizeElements = 64 * 1024;    // activations per quantization chunk (smaller calls run inline)

    private readonly float[][] _spill;     // [threads][TokenBlock · 64] outputs of a unit that runs past N
    private sbyte[] _hi = [], _lo = [];    // [T, K] activation byte planes, pinned, grown on demand
    private short[] _q16 = [];             // [T, K] 16-bit activation integers (INT8 without VNNI only)
    private float[] _sx = [];              // [T, K/B] activation block scales
    private int[] _sums = [];              // [T, K/B] Σ q per activation block
    private float* _x, _y;                 // x [T, K], y [T, N]
    private QuantizedWeight? _w;
    private int _t, _k, _n, _units, _blocks, _blockSize, _sliceBlocks, _tokenBlock;
    private QuantizedTiles _tiles;
    private SimdWidth _width;
    private bool _needQ16, _quantizing;    // _quantizing: phase 1 (activations) rather than phase 2 (matmul)
    private int _tokensPerChunk;           // phase 1

    public QuantizedMatMulJob(int threads)
    {
        _spill = new float[threads][];
        for (int i = 0; i < threads; i++) _spill[i] = GC.AllocateArray<float>(TokenBlock * Unit, pinned: true);
    }

    /// <summary>
    /// Phase 1: fills the job for x [T, K] and returns the chunk count of the activation quantization (token ranges; one chunk for a
    /// small call). <paramref name="px"/> and <paramref name="py"/> (y[0, 0]) must stay fixed until both phases have run.
    /// <paramref name="tiles"/> overrides the machine's choice (tests run every implementation).
    /// </summary>
    public int PrepareActivations(int tokens, float* px, QuantizedWeight w, float* py, SimdWidth width, int threads, QuantizedTiles? tiles = null)
    {
        _x = px; _y = py; _w = w; _width = width;
        _t = tokens; _k = w.Cols; _n = w.Rows;
        _blockSize = w.ActivationBlock;
        _blocks = _k / _blockSize;
        _units = (_n + Unit - 1) / Unit; // units wholly in the padding are skipped
        _tiles = tiles ?? QuantizedDotKernel.TilesFor(width);
        _needQ16 = _tiles == QuantizedTiles.Avx2 && w.Scheme == QuantScheme.Int8PerChannel;
        Grow(ref _hi, tokens * _k);
        Grow(ref _lo, tokens * _k);
        if (_needQ16) Grow(ref _q16, tokens * _k);
        Grow(ref _sx, tokens * _blocks);
        Grow(ref _sums, tokens * _blocks);
        _quantizing = true;
        int chunks = (int)Math.Clamp((long)tokens * _k / MinQuantizeElements, 1, Math.Min(tokens, 4 * threads));
        _tokensPerChunk = (tokens + chunks - 1) / chunks;
        return (tokens + _tokensPerChunk - 1) / _tokensPerChunk;
    }

    /// <summary>Phase 2 (after phase 1 has run): returns the chunk count of the matmul itself.</summary>
    public int PrepareMatMul(int threads)
    {
        _quantizing = false;
        long sliceColumns = SliceBytes / (4 * _w!.BlockBytes / _k); // unit bytes per column: 64 (INT8) or 32 (INT4)
        _sliceBlocks = (int)Math.Max(1, sliceColumns / _blockSize);
        _tokenBlock = TokenBlock;
        while (_tokenBlock > 8 && _units * ((_t + _tokenBlock - 1) / _tokenBlock) < 4 * threads) _tokenBlock /= 2;
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
        if (_quantizing)
        {
            int first = chunk * _tokensPerChunk, count = Math.Min(_tokensPerChunk, _t - first);
            nint e = (nint)first * _k, b = (nint)first * _blocks;
            fixed (sbyte* hi = _hi) fixed (sbyte* lo = _lo) fixed (short* q16 = _q16) fixed (float* sx = _sx) fixed (int* sums = _sums)
                ActivationQuantizer.Quantize(_x + e, count, _k, _blockSize, _w!.Scheme == QuantScheme.Int4Group, hi + e, lo + e,
                    _needQ16 ? q16 + e : null, sx + b, sums + b, _width);
            return;
        }
        int tb = chunk / _units, unit = chunk % _units;
        int t0 = tb * _tokenBlock;
        Run(unit, t0, Math.Min(_tokenBlock, _t - t0), worker);
    }

    // Unit u for tokens [t0, t0 + tc): per K slice, every token's tile over the slice's activation blocks, partial sums kept in y.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Run(int u, int t0, int tc, int worker)
    {
        var w = _w!;
        int n0 = u * Unit;
        bool partial = n0 + Unit > _n;
        bool int4 = w.Scheme == QuantScheme.Int4Group;
        nint bs = (nint)w.BlockBytes;
        byte* wp = (byte*)w.Data + 4 * u * bs;
        nint sbs = (nint)w.NumGroups * QuantizedWeight.BlockRows; // INT4 scales and zero points per block
        float* s = (float*)w.ScalesPointer + (int4 ? 4 * u * sbs : n0);
        byte* z = (byte*)w.ZerosPointer + 4 * u * sbs;
        fixed (float* spill = _spill[worker])
        fixed (sbyte* hi = _hi) fixed (sbyte* lo = _lo) fixed (short* q16 = _q16) fixed (float* sx = _sx) fixed (int* sums = _sums)
        {
            float* y = partial ? spill : _y + (nint)t0 * _n + n0;
            nint ldy = partial ? Unit : _n;
            for (int b0 = 0; b0 < _blocks; b0 += _sliceBlocks)
            {
                int b1 = Math.Min(_blocks, b0 + _sliceBlocks);
                for (int t = 0; t < tc; t++)
                {
                    nint row = (nint)(t0 + t) * _k, rb = (nint)(t0 + t) * _blocks;
                    nint prefetch = t == 0 ? PackedMatMulKernel.StreamPrefetchBytes : 0; // later tokens re-read the slice from L1
                    if (_tiles == QuantizedTiles.Vnni && int4 && t + 1 < tc)
                    {
                        // Two tokens share each unpacked weight vector (two blocks at a time).
                        for (int half = 0; half < 2; half++)
                        {
                            nint hb = 2 * half;
                            QuantizedDotKernel.Int4Vnni2(hi + row, lo + row, _k, sx + rb, sums + rb, _blocks, b0, b1, _blockSize, w.GroupSize,
                                wp + hb * bs, bs, s + hb * sbs, z + hb * sbs, sbs, y + t * ldy + 32 * half, ldy, prefetch);
                        }
                        t++;
                        continue;
                    }
                    float* yt = y + t * ldy;
                    switch (_tiles)
                    {
                        case QuantizedTiles.Vnni when int4:
                            QuantizedDotKernel.Int4Vnni(hi + row, lo + row, sx + rb, sums + rb, b0, b1, _blockSize, w.GroupSize, wp, bs, s, z, sbs, yt, prefetch);
                            break;
                        case QuantizedTiles.Vnni:
                            QuantizedDotKernel.Int8Vnni(hi + row, lo + row, sx + rb, sums + rb, b0, b1, _blockSize, wp, bs, yt, prefetch);
                            break;
                        case QuantizedTiles.Avx2:
                            for (int half = 0; half < 2; half++) // two blocks per call
                            {
                                nint hb = 2 * half;
                                if (int4)
                                    QuantizedDotKernel.Int4Avx2(hi + row, lo + row, sx + rb, sums + rb, b0, b1, _blockSize, w.GroupSize, wp + hb * bs, bs,
                                        s + hb * sbs, z + hb * sbs, sbs, yt + 32 * half);
                                else
                                    QuantizedDotKernel.Int8Avx2(q16 + row, sx + rb, sums + rb, b0, b1, _blockSize, wp + hb * bs, bs, yt + 32 * half);
                            }
                            break;
                        default:
                            QuantizedDotKernel.Scalar(w.Scheme, hi + row, lo + row, sx + rb, sums + rb, b0, b1, _blockSize, w.GroupSize, wp, bs, s, z, sbs, yt);
                            break;
                    }
                }
            }
            if (!int4)
                for (int t = 0; t < tc; t++)
                    for (int j = 0; j < Unit; j++) y[t * ldy + j] *= s[j];
            if (partial)
                for (int t = 0; t < tc; t++)
                    new ReadOnlySpan<float>(spill + t * Unit, _n - n0).CopyTo(new Span<float>(_y + (nint)(t0 + t) * _n + n0, _n - n0));
        }
    }

    private static void Grow<T>(ref T[] buffer, int length) where T : unmanaged
    {
        if (buffer.Length < length) buffer = GC.AllocateArray<T>(Math.Max(length, 2 * buffer.Length), pinned: true);
    }
}
