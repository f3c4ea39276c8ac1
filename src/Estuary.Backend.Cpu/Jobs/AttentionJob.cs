// Parallel driver of PagedAttentionKernel over (query row, head) pairs; the backend validated shapes and block tables first.
// Invariant: each (row, head) output is written by exactly one chunk; per-worker score scratch is grown, never shared.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Estuary.Backend.Cpu.Kernels;
using Estuary.Backend.Cpu.Threading;
using Estuary.Tensors;

namespace Estuary.Backend.Cpu.Jobs;

/// <summary>One PagedAttention call's state; preallocated and refilled per call.</summary>
internal sealed class AttentionJob : ParallelJob
{
    private readonly float[][] _scores; // [threads][maxPos + 1]
    private int[] _rowSeq = [];         // [T] sequence of each query row
    private float[] _q = [];            // [T, Hq·D] at _qOff
    private int _qOff;
    private float[] _o = [];            // [T, Hq·D] at _oOff
    private int _oOff;
    private float[] _k = [], _v = [];   // [NumBlocks, B, Hkv, D]
    private ForwardBatch? _b;
    private AttentionParams? _p;
    private int _items, _itemsPerChunk, _maxPos;
    private bool _simd;

    public AttentionJob(int threads) => _scores = new float[threads][];

    /// <summary>Row → sequence map to fill (length ≥ T).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int[] RowSeq(int tokens)
    {
        if (_rowSeq.Length < tokens) _rowSeq = new int[Math.Max(tokens, 2 * _rowSeq.Length)];
        return _rowSeq;
    }

    /// <summary>Fills the job and returns its chunk count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Prepare(CpuTensor q, float[] k, float[] v, ForwardBatch b, AttentionParams p, CpuTensor o, int maxPos, bool simd, int threads)
    {
        _q = q.Data; _qOff = q.Offset; _o = o.Data; _oOff = o.Offset; _k = k; _v = v; _b = b; _p = p;
        _maxPos = maxPos; _simd = simd;
        _items = q.Rows * p.NumHeads;
        _itemsPerChunk = Math.Max(1, _items / (8 * threads));
        return (_items + _itemsPerChunk - 1) / _itemsPerChunk;
    }

    /// <summary>Drops references to the call's buffers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Clear()
    {
        _q = []; _o = []; _k = []; _v = []; _b = null; _p = null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(int chunk, int worker)
    {
        var b = _b!;
        var p = _p!;
        int d = p.HeadDim, hq = p.NumHeads, group = hq / p.NumKvHeads;
        var scores = _scores[worker];
        if (scores is null || scores.Length <= _maxPos) _scores[worker] = scores = new float[Math.Max(_maxPos + 1, 256)];
        ref float q0 = ref MemoryMarshal.GetArrayDataReference(_q);
        ref float o0 = ref MemoryMarshal.GetArrayDataReference(_o);
        ref float k0 = ref MemoryMarshal.GetArrayDataReference(_k);
        ref float v0 = ref MemoryMarshal.GetArrayDataReference(_v);
        int i1 = Math.Min(_items, (chunk + 1) * _itemsPerChunk);
        for (int i = chunk * _itemsPerChunk; i < i1; i++)
        {
            int row = i / hq, h = i % hq, kvh = h / group;
            int s = _rowSeq[row];
            nint qo = (nint)row * hq * d + (nint)h * d; // element [row, h, 0] of [T, Hq, D]
            PagedAttentionKernel.Attend(ref Unsafe.Add(ref q0, _qOff + qo), ref k0, ref v0, b.BlockTable(s), b.BlockSize,
                kvh * d, p.NumKvHeads * d, d, b.Positions[row], p.Scale, p.AlibiSlopes is { } sl ? sl[h] : 0f,
                scores, ref Unsafe.Add(ref o0, _oOff + qo), _simd);
        }
    }
}
