// Parallel driver of MatMulKernel: chunks are groups of weight rows (decode) or (token block, widened panel) pairs (prefill).
// Invariant: each output element is produced by exactly one chunk with the kernel's fixed summation order, so results do not depend on threads.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Estuary.Backend.Cpu.Kernels;
using Estuary.Backend.Cpu.Threading;
using Estuary.Tensors;

namespace Estuary.Backend.Cpu.Jobs;

/// <summary>One MatMul call's state; preallocated by the backend and refilled per call (no per-call allocation).</summary>
internal sealed class MatMulJob : ParallelJob
{
    /// <summary>Tokens per prefill block: x block [TokenBlock, K] is shared by consecutive chunks through L3.</summary>
    private const int TokenBlock = 256;

    private readonly float[][] _panels; // [threads][PanelRows · K] widened weight panels, grown on demand
    private float[] _x = [];            // x data, [T, K] at _xOff
    private int _xOff;
    private float[] _y = [];            // y data, [T, N] at _yOff
    private int _yOff;
    private Weight? _w;                 // [N, K]
    private int _t, _k, _n;
    private bool _simd, _direct;
    private int _rowsPerChunk;          // direct: weight rows per chunk (multiple of 4)
    private int _panelRows;             // blocked: weight rows per panel (multiple of 4)
    private int _numPanels;

    public MatMulJob(int threads) => _panels = new float[threads][];

    /// <summary>Fills the job and returns its chunk count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Prepare(CpuTensor x, Weight w, CpuTensor y, bool simd, int threads)
    {
        _x = x.Data; _xOff = x.Offset; _y = y.Data; _yOff = y.Offset; _w = w;
        _t = x.Rows; _k = x.Cols; _n = w.Rows; _simd = simd;
        _direct = _t <= MatMulKernel.DirectMaxTokens;
        if (_direct)
        {
            // About 4 chunks per thread so a thread slowed by another process hands work to the others.
            int groups = (_n + MatMulKernel.RowGroup - 1) / MatMulKernel.RowGroup;
            int groupsPerChunk = Math.Max(1, (groups + 4 * threads - 1) / (4 * threads));
            _rowsPerChunk = groupsPerChunk * MatMulKernel.RowGroup;
            return (_n + _rowsPerChunk - 1) / _rowsPerChunk;
        }
        _panelRows = MatMulKernel.PanelRows(_k);
        _numPanels = (_n + _panelRows - 1) / _panelRows;
        return _numPanels * ((_t + TokenBlock - 1) / TokenBlock);
    }

    /// <summary>Drops references to the call's buffers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Clear()
    {
        _x = []; _y = []; _w = null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(int chunk, int worker)
    {
        var w = _w!;
        if (_direct)
        {
            int r0 = chunk * _rowsPerChunk, r1 = Math.Min(_n, r0 + _rowsPerChunk);
            for (int r = r0; r < r1; r += MatMulKernel.RowGroup)
                Run(w, w.DType, r, Math.Min(MatMulKernel.RowGroup, r1 - r), 0, _t, prefetch: true);
            return;
        }
        int tb = chunk / _numPanels, p = chunk % _numPanels;
        int n0 = p * _panelRows, nb = Math.Min(_panelRows, _n - n0);
        int t0 = tb * TokenBlock, tc = Math.Min(TokenBlock, _t - t0);
        if (w.DType == DType.F32)
        {
            Run(w, DType.F32, n0, nb, t0, tc);
            return;
        }
        // Widen the panel once into this worker's scratch, then run the F32 kernel on it (identical sums: widening is exact).
        ref float panel = ref MemoryMarshal.GetArrayDataReference(Scratch(worker, _panelRows * _k)); // [nb, K]
        for (int r = 0; r < nb; r++) EmbeddingKernel.Row(w, n0 + r, ref Unsafe.Add(ref panel, (nint)r * _k), _simd);
        MatMulKernel.Tile<F32Load>(ref X(t0), tc, _k, ref Unsafe.As<float, byte>(ref panel), nb, ref Y(t0, n0), _n, _simd);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private unsafe void Run(Weight w, DType dtype, int n0, int nb, int t0, int tc, bool prefetch = false)
    {
        ref byte wr = ref Unsafe.AsRef<byte>((void*)(w.Pointer + (nint)((long)n0 * _k * dtype.SizeOf()))); // [nb, K]
        switch (dtype)
        {
            case DType.F32: MatMulKernel.Tile<F32Load>(ref X(t0), tc, _k, ref wr, nb, ref Y(t0, n0), _n, _simd, prefetch); break;
            case DType.F16: MatMulKernel.Tile<F16Load>(ref X(t0), tc, _k, ref wr, nb, ref Y(t0, n0), _n, _simd, prefetch); break;
            case DType.BF16: MatMulKernel.Tile<BF16Load>(ref X(t0), tc, _k, ref wr, nb, ref Y(t0, n0), _n, _simd, prefetch); break;
            default: throw new NotSupportedException($"MatMul: weight '{w.Name}' has dtype {w.DType}; supported: F32, F16, BF16");
        }
    }

    private ref float X(int t) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_x), _xOff + (nint)t * _k);

    private ref float Y(int t, int n) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_y), _yOff + (nint)t * _n + n);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float[] Scratch(int worker, int length)
    {
        var s = _panels[worker];
        if (s is null || s.Length < length) _panels[worker] = s = GC.AllocateUninitializedArray<float>(length, pinned: true);
        return s;
    }
}
