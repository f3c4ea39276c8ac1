// Parallel driver of PackedMatMulKernel for Interleaved16 weights [N, K]: chunks are groups of 16-output blocks (decode: the
// weights stream from memory once, every token of the step reuses each vector) or (token block, 4-block group) pairs (prefill:
// the group is widened to F32 one K-slice at a time into an L1-sized panel that every token tile of the block reuses; when a token
// block's x exceeds 1 MiB, K runs in phases, one pool run each, so every unit of a phase rereads x from L2).
// Invariant: each output element is produced by exactly one chunk as one in-order FMA chain, so results do not depend on threads.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Estuary.Backend.Cpu.Kernels;
using Estuary.Backend.Cpu.Threading;
using Estuary.Tensors;

namespace Estuary.Backend.Cpu.Jobs;

/// <summary>One packed MatMul call's state; preallocated by the backend and refilled per call.</summary>
internal sealed unsafe class PackedMatMulJob : ParallelJob
{
    /// <summary>Up to this many tokens the weights are read straight from storage; above, K-slices are widened into a panel.</summary>
    public const int DirectMaxTokens = 16;

    private const int Group = 4;          // blocks per Vector512 micro tile
    private const int Direct2BlockMinTokens = 7; // from here the direct regime runs 2-block × up-to-8-token tiles
    private const int PanelK = 128;       // k per widened slice: 4 blocks × 128 × 16 floats = 32 KiB, stays in L1
    private const int TokenBlock = 128;   // tokens per prefill chunk (at most)
    // Floats between block slices in the panel: one cache line, so the 4 slices (8 KiB apart otherwise) that a micro tile reads
    // at the same k do not all fall in one L1 set (prefill GEMM 170 → 189 GFLOP/s averaged over TinyLlama shapes, alternating runs).
    private const int PanelPad = 16;
    // Most bytes of x one K-phase of a token block reads: every output unit of the block rereads them, so they must stay in L2.
    // Above, K is split into phases run one after another (TinyLlama's down projection, K = 5632: x 2.75 MiB per 128 tokens).
    // Kernel benchmark `gemm` (1 and 2 threads, alternating in one process): K = 5632 at T = 512 went 210 → 233 GFLOP/s with
    // 2 threads and 114 → 125 with 1 (one run; 512 KiB phases read 2–5 % more there, not adopted on one run); K = 2048 stays
    // in one phase.
    private const int PhaseXBytes = 1 << 20;

    private readonly float[][] _panels;   // [threads][Group][PanelK · 16 + PanelPad]
    private float[] _scaledX = [];        // [T, K] x · 2^102 for shifted-F16 weights (pinned, grown on demand)
    private bool _xScaled;                // _x points into _scaledX
    private float* _x, _y;                // x [T, K], y [T, N]
    private Weight? _w;
    private int _t, _k, _n, _blocks, _tail;
    private bool _wide, _simd, _direct;
    private int _unitBlocks;              // blocks per output unit (Group with AVX-512, else 1)
    private int _units;                   // output units, the tail rows (if any) counting as one more
    private int _unitsPerChunk;           // direct regime
    private int _tokenBlock;              // blocked regime: tokens per chunk
    private int _phaseK;                  // blocked regime: k per phase (a multiple of PanelK), K in one phase when direct
    private int _k0, _k1;                 // the current phase's k range

    public PackedMatMulJob(int threads)
    {
        _panels = new float[threads][];
        for (int i = 0; i < threads; i++) _panels[i] = GC.AllocateArray<float>(Group * (PanelK * PackedMatMulKernel.Block + PanelPad), pinned: true);
    }

    /// <summary>True when the machine runs the Vector512 kernels.</summary>
    public static bool Wide => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>Fills the job and returns its chunk count; <paramref name="px"/>, <paramref name="py"/> point to x[0, 0] and y[0, 0]
    /// and must stay fixed until the job has run.</summary>
    public int Prepare(CpuTensor x, float* px, Weight w, CpuTensor y, float* py, bool simd, int threads)
    {
        _x = px;
        _y = py;
        _w = w;
        _t = x.Rows; _k = x.Cols; _n = w.Rows;
        _simd = simd && Fma.IsSupported;
        _wide = _simd && Wide;
        _blocks = _n / PackedMatMulKernel.Block;
        _tail = _n - _blocks * PackedMatMulKernel.Block;
        _direct = _t <= DirectMaxTokens || !_simd;
        _phaseK = _k;
        // Shifted-F16 weights stream at BF16 speed against x · 2^102 (exact unless some |x| ≥ 2^26); the blocked regime widens
        // them to their values once per panel instead.
        _xScaled = w.IsShiftedHalf && _direct && TryScaleActivations(px, _t * _k);
        _unitBlocks = _wide ? Group : 1;
        _units = (_blocks + _unitBlocks - 1) / _unitBlocks + (_tail > 0 ? 1 : 0);
        if (_direct)
        {
            // About 4 chunks per thread so a thread slowed by another process hands work to the others.
            _unitsPerChunk = Math.Max(1, (_units + 4 * threads - 1) / (4 * threads));
            return (_units + _unitsPerChunk - 1) / _unitsPerChunk;
        }
        // Few output units: smaller token blocks so every thread gets chunks (each chunk widens its own panel slices).
        _tokenBlock = TokenBlock;
        while (_units * ((_t + _tokenBlock - 1) / _tokenBlock) < 2 * threads && _tokenBlock > 24) _tokenBlock /= 2;
        int phases = (int)Math.Max(1, ((long)_tokenBlock * _k * sizeof(float) + PhaseXBytes - 1) / PhaseXBytes);
        _phaseK = ((_k + phases - 1) / phases + PanelK - 1) / PanelK * PanelK;
        return _units * ((_t + _tokenBlock - 1) / _tokenBlock);
    }

    /// <summary>K-phases of the prepared call: run every chunk of phase 0, then of phase 1, … (each continues the FMA chains).</summary>
    public int Phases => (_k + _phaseK - 1) / _phaseK;

    /// <summary>Selects the phase the next chunks run.</summary>
    public void SetPhase(int phase)
    {
        _k0 = phase * _phaseK;
        _k1 = Math.Min(_k, _k0 + _phaseK);
    }

    // _x = a copy of x[0..n) times 2^102, when every |x| < 2^26 (NaN and Inf included in the refusal): each product with a
    // ShiftedHalfLoad weight is then the product of x and the weight's value, exactly.
    private bool TryScaleActivations(float* x, int n)
    {
        if (_scaledX.Length < n) _scaledX = GC.AllocateArray<float>(Math.Max(n, 2 * _scaledX.Length), pinned: true);
        fixed (float* d = _scaledX)
        {
            uint limit = ShiftedHalf.ActivationLimitBits;
            int i = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<uint> over = Vector256<uint>.Zero, abs = Vector256.Create(0x7FFFFFFFu), lim = Vector256.Create(limit - 1);
                Vector256<float> scale = Vector256.Create(ShiftedHalf.ActivationScale);
                for (; i + 8 <= n; i += 8)
                {
                    Vector256<float> v = Vector256.Load(x + i);
                    over |= Vector256.GreaterThan(v.AsUInt32() & abs, lim);
                    (v * scale).Store(d + i);
                }
                if (over != Vector256<uint>.Zero) return false;
            }
            for (; i < n; i++)
            {
                if ((BitConverter.SingleToUInt32Bits(x[i]) & 0x7FFFFFFF) >= limit) return false;
                d[i] = x[i] * ShiftedHalf.ActivationScale;
            }
            _x = d; // the array is pinned, so the pointer stays valid after the fixed block
        }
        return true;
    }

    /// <summary>Drops references to the call's buffers.</summary>
    public void Clear()
    {
        _x = null; _y = null; _w = null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(int chunk, int worker)
    {
        switch (_w!.DType)
        {
            case DType.BF16: Execute<BF16Load>(chunk, worker); break;
            case DType.F16 when _w.IsShiftedHalf && _xScaled: Execute<ShiftedHalfLoad>(chunk, worker); break;
            case DType.F16 when _w.IsShiftedHalf: Execute<ShiftedHalfExactLoad>(chunk, worker); break;
            case DType.F16 when _w.KnownFinite: Execute<F16FiniteLoad>(chunk, worker); break;
            case DType.F16: Execute<F16Load>(chunk, worker); break;
            case DType.F32: Execute<F32Load>(chunk, worker); break;
            default: throw new NotSupportedException($"MatMul: weight '{_w.Name}' has dtype {_w.DType}; supported: F32, F16, BF16");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Execute<TW>(int chunk, int worker)
        where TW : struct, IWeightLoad
    {
        if (_direct)
        {
            int u0 = chunk * _unitsPerChunk, u1 = Math.Min(_units, u0 + _unitsPerChunk);
            for (int u = u0; u < u1; u++) Direct<TW>(u, 0, _t);
            return;
        }
        int tb = chunk / _units, unit = chunk % _units;
        int t0 = tb * _tokenBlock, tc = Math.Min(_tokenBlock, _t - t0);
        Blocked<TW>(unit, t0, tc, worker);
    }

    // Output unit u over tokens [t0, t0 + tc), weights read in their stored dtype over the whole of K.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Direct<TW>(int u, int t0, int tc)
        where TW : struct, IWeightLoad
    {
        int b0 = u * _unitBlocks;
        float* x = _x + (nint)t0 * _k;
        if (b0 >= _blocks)
        {
            Tail<TW>(x, tc, _y + (nint)t0 * _n, 0, _k, accumulate: false);
            return;
        }
        int nb = Math.Min(_unitBlocks, _blocks - b0);
        nint bs = (nint)_k * PackedMatMulKernel.Block * TW.ElementSize; // bytes per block
        byte* w = (byte*)_w!.Pointer + b0 * bs;
        float* y = _y + (nint)t0 * _n + b0 * PackedMatMulKernel.Block;
        if (!_simd)
        {
            for (int b = 0; b < nb; b++)
                PackedMatMulKernel.Scalar<TW>(x, _k, tc, w + b * bs, PackedMatMulKernel.Block, 1, PackedMatMulKernel.Block,
                    y + b * PackedMatMulKernel.Block, _n, 0, _k, accumulate: false);
            return;
        }
        if (nb == Group && _wide)
        {
            // Batches of 7+ tokens on 2-byte weights: 2-block tiles of up to 8 tokens widen each weight vector once per 8 tokens.
            if (tc >= Direct2BlockMinTokens && TW.ElementSize == 2)
                PackedMatMulKernel.Tiles2x2x512<TW>(x, _k, tc, w, bs, y, _n, _k, PackedMatMulKernel.StreamPrefetchBytes);
            else
                PackedMatMulKernel.Tiles4x512<TW>(x, _k, tc, w, bs, y, _n, 0, _k, accumulate: false, PackedMatMulKernel.StreamPrefetchBytes);
            return;
        }
        for (int b = 0; b < nb; b++)
            PackedMatMulKernel.Tiles1x256<TW>(x, _k, tc, w + b * bs, y + b * PackedMatMulKernel.Block, _n, 0, _k, accumulate: false);
    }

    // Output unit u over tokens [t0, t0 + tc) and the phase's k range, one K-slice at a time: the unit's blocks are widened into
    // this worker's F32 panel ([nb][PanelK · 16 + PanelPad]) and every token tile runs over the slice, parking its partial sums in y
    // between slices.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Blocked<TW>(int u, int t0, int tc, int worker)
        where TW : struct, IWeightLoad
    {
        int b0 = u * _unitBlocks;
        float* x = _x + (nint)t0 * _k;
        float* y = _y + (nint)t0 * _n + b0 * PackedMatMulKernel.Block;
        if (b0 >= _blocks)
        {
            Tail<TW>(x, tc, _y + (nint)t0 * _n, _k0, _k1, accumulate: _k0 > 0);
            return;
        }
        int nb = Math.Min(_unitBlocks, _blocks - b0);
        nint bs = (nint)_k * PackedMatMulKernel.Block * TW.ElementSize;
        byte* w = (byte*)_w!.Pointer + b0 * bs;
        fixed (float* panel = _panels[worker])
        {
            for (int k0 = _k0; k0 < _k1; k0 += PanelK)
            {
                int kc = Math.Min(PanelK, _k1 - k0);
                int len = kc * PackedMatMulKernel.Block; // elements per block slice
                int stride = len + PanelPad;
                // The panel indexed by absolute k: element k of block b at panel + b·stride + 16·(k − k0).
                byte* p = (byte*)(panel - (nint)k0 * PackedMatMulKernel.Block);
                nint pbs = (nint)stride * sizeof(float);
                bool acc = k0 > 0;
                if (nb == Group && _wide)
                {
                    // The first token tile widens the slice into the panel as it computes; the others read the panel. Kernel
                    // benchmark 'gemm', three runs alternating with a separate widening pass, T = 512: medians of 1 thread +7 %, of
                    // 2 threads +4 % (best rounds: 1 thread +2.5 %, 2 threads +2 % on average, −11 to +24 %).
                    PackedMatMulKernel.WidenTiles4x512<TW>(x, _k, tc, w, bs, p, pbs, y, _n, k0, k0 + kc, acc, PackedMatMulKernel.StreamPrefetchBytes);
                    continue;
                }
                // Vector256 machines and a weight's last 1–3 blocks: a widening pass, then 1-block tiles over the panel.
                for (int b = 0; b < nb; b++)
                    Widen.Row<TW>(ref *(w + b * bs + (nint)k0 * PackedMatMulKernel.Block * TW.ElementSize), len, ref panel[b * stride], simd: true);
                for (int b = 0; b < nb; b++)
                    PackedMatMulKernel.Tiles1x256<F32Load>(x, _k, tc, p + b * pbs, y + b * PackedMatMulKernel.Block, _n, k0, k0 + kc, acc);
            }
        }
    }

    // The N mod 16 tail rows, stored row-major after the blocks: scalar in-order chains.
    private void Tail<TW>(float* x, int tc, float* yRow, int k0, int k1, bool accumulate)
        where TW : struct, IWeightLoad
    {
        int r0 = _blocks * PackedMatMulKernel.Block;
        byte* w = (byte*)_w!.Pointer + (nint)r0 * _k * TW.ElementSize;
        PackedMatMulKernel.Scalar<TW>(x, _k, tc, w, 1, _k, _tail, yRow + r0, _n, k0, k1, accumulate);
    }
}
