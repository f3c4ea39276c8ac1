// Parallel driver of quantized MatMul: chunks are groups of rows dequantized in registers (decode) or (token block, dequantized panel)
// pairs run through the F32 micro-kernel (prefill). Invariant: both regimes give bit-identical rows (exact dequantization, same sum order).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Estuary.Backend.Cpu.Kernels;
using Estuary.Backend.Cpu.Threading;
using Estuary.Tensors.Quantization;

namespace Estuary.Backend.Cpu.Jobs;

/// <summary>One quantized MatMul call's state; preallocated by the backend and refilled per call (no per-call allocation).</summary>
internal sealed unsafe class QuantizedMatMulJob : ParallelJob
{
    /// <summary>Tokens per prefill block, as in MatMulJob.</summary>
    private const int TokenBlock = 256;

    private readonly float[][] _panels; // [threads][PanelRows · K] dequantized panels, grown on demand (pinned)
    private float[] _x = [];            // [T, K] at _xOff
    private int _xOff;
    private float[] _y = [];            // [T, N] at _yOff
    private int _yOff;
    private QuantizedWeight? _w;        // [N, K] packed
    private int _t, _k, _n;
    private bool _simd, _direct;
    private int _rowsPerChunk, _panelRows, _numPanels;

    public QuantizedMatMulJob(int threads) => _panels = new float[threads][];

    /// <summary>Fills the job and returns its chunk count; <paramref name="simd"/> means AVX2 + FMA.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Prepare(CpuTensor x, QuantizedWeight w, CpuTensor y, bool simd, int threads)
    {
        _x = x.Data; _xOff = x.Offset; _y = y.Data; _yOff = y.Offset; _w = w;
        _t = x.Rows; _k = x.Cols; _n = w.Rows; _simd = simd;
        _direct = simd && _t <= QuantizedMatMulKernel.DirectMaxTokens;
        if (_direct)
        {
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
            fixed (float* s = w.Scales)
            fixed (float* o = w.Offsets)
            {
                for (int t = 0; t < _t; t++)
                {
                    float* xt = (float*)Unsafe.AsPointer(ref X(t)); // pinned activation array
                    float* yt = (float*)Unsafe.AsPointer(ref Y(t, 0));
                    Direct(w, s, o, xt, yt, r0, r1, prefetch: t == 0);
                }
            }
            return;
        }
        int tb = chunk / _numPanels, p = chunk % _numPanels;
        int n0 = p * _panelRows, nb = Math.Min(_panelRows, _n - n0);
        int t0 = tb * TokenBlock, tc = Math.Min(TokenBlock, _t - t0);
        float[] scratch = Scratch(worker, _panelRows * _k); // [nb, K]
        fixed (float* panel = scratch)
        {
            for (int r = 0; r < nb; r++) QuantizedMatMulKernel.DequantizeRow(w, n0 + r, panel + (long)r * _k, _simd);
            MatMulKernel.Tile<F32Load>(ref X(t0), tc, _k, ref Unsafe.AsRef<byte>(panel), nb, ref Y(t0, n0), _n, _simd);
        }
    }

    /// <summary>Rows [r0, r1) for one token: 4-row micro-kernels, then single rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Direct(QuantizedWeight w, float* s, float* o, float* x, float* y, int r0, int r1, bool prefetch)
    {
        byte* data = (byte*)w.Data;
        nint rowBytes = w.RowBytes;
        int ng = w.NumGroups, gs = w.GroupSize;
        bool int4 = w.Scheme == QuantScheme.Int4Group;
        int r = r0;
        for (; r + 4 <= r1; r += 4)
        {
            byte* wr = data + r * rowBytes;
            if (int4) QuantizedMatMulKernel.Int4Rows4(x, wr, rowBytes, s + (long)r * ng, o + (long)r * ng, ng, gs, y + r, prefetch);
            else QuantizedMatMulKernel.Int8Rows4(x, (sbyte*)wr, rowBytes, s + r, y + r, prefetch);
        }
        for (; r < r1; r++)
        {
            byte* wr = data + r * rowBytes;
            y[r] = int4
                ? QuantizedMatMulKernel.Int4Row(x, wr, s + (long)r * ng, o + (long)r * ng, ng, gs)
                : QuantizedMatMulKernel.Int8Row(x, (sbyte*)wr, rowBytes, s[r]);
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
