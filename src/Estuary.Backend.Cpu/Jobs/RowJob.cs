// Parallel driver of the row kernels (RmsNorm, per-head RmsNorm, SiluMul, Add, AddBias, Rope, ScaleColumns) over row ranges; small calls run inline.
// Invariant: each row is processed by exactly one chunk; the per-row math does not depend on the chunking.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Estuary.Backend.Cpu.Kernels;
using Estuary.Backend.Cpu.Threading;
using Estuary.Tensors;

namespace Estuary.Backend.Cpu.Jobs;

/// <summary>Which row kernel a <see cref="RowJob"/> runs.</summary>
internal enum RowOp
{
    RmsNorm,
    SiluMul,
    Add,
    Rope,
    ScaleColumns,
    AddBias,
    RmsNormHeads,
}

/// <summary>A row-parallel elementwise call; preallocated and refilled per call.</summary>
internal sealed class RowJob : ParallelJob
{
    /// <summary>Elements per chunk below which splitting is not worth a wake-up.</summary>
    private const int MinChunkElements = 32 * 1024;

    private RowOp _op;
    private float[] _a = [], _b = [], _c = []; // op operands, each [rows, cols] at its offset (ScaleColumns/RmsNorm: _b is [cols])
    private int _aOff, _bOff, _cOff;
    private int _rows, _cols, _rowsPerChunk;
    private float _eps;
    private int _heads, _headDim, _headStride;
    private RopeTable? _rope;
    private int[] _positions = [];
    private bool _simd;

    /// <summary>Fills the job; returns the chunk count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Prepare(RowOp op, int rows, int cols, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, bool simd, int threads)
    {
        _op = op; _rows = rows; _cols = cols; _simd = simd;
        _a = a; _aOff = aOff; _b = b; _bOff = bOff; _c = c; _cOff = cOff;
        long total = (long)rows * Math.Max(cols, 1);
        int chunks = (int)Math.Clamp(total / MinChunkElements, 1, Math.Max(1, 4 * threads));
        chunks = Math.Min(chunks, Math.Max(rows, 1));
        _rowsPerChunk = (rows + chunks - 1) / Math.Max(chunks, 1);
        return rows == 0 ? 0 : (rows + _rowsPerChunk - 1) / _rowsPerChunk;
    }

    /// <summary>Extra arguments of RmsNorm.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SetEps(float eps) => _eps = eps;

    /// <summary>Extra arguments of RmsNormHeads: a row is <paramref name="heads"/> runs of <paramref name="headDim"/> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SetHeads(int heads, int headDim)
    {
        _heads = heads; _headDim = headDim;
    }

    /// <summary>Extra arguments of Rope.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SetRope(RopeTable table, int heads, int headStride, int[] positions)
    {
        _rope = table; _heads = heads; _headDim = table.HeadDim; _headStride = headStride; _positions = positions;
    }

    /// <summary>Drops references to the call's buffers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Clear()
    {
        _a = []; _b = []; _c = []; _rope = null; _positions = [];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(int chunk, int worker)
    {
        int r0 = chunk * _rowsPerChunk, r1 = Math.Min(_rows, r0 + _rowsPerChunk);
        ref float a = ref MemoryMarshal.GetArrayDataReference(_a);
        ref float b = ref MemoryMarshal.GetArrayDataReference(_b);
        ref float c = ref MemoryMarshal.GetArrayDataReference(_c);
        for (int r = r0; r < r1; r++)
        {
            nint off = (nint)r * _cols;
            switch (_op)
            {
                case RowOp.RmsNorm: // a = x, b = gamma [cols], c = y
                    RmsNormKernel.Row(ref Unsafe.Add(ref a, _aOff + off), ref Unsafe.Add(ref b, _bOff), _cols, _eps, ref Unsafe.Add(ref c, _cOff + off), _simd);
                    break;
                case RowOp.SiluMul: // a = gate, b = up, c = y
                    SiluMulKernel.Run(ref Unsafe.Add(ref a, _aOff + off), ref Unsafe.Add(ref b, _bOff + off), ref Unsafe.Add(ref c, _cOff + off), _cols, _simd);
                    break;
                case RowOp.Add: // a += b
                    RowOpsKernels.Add(ref Unsafe.Add(ref a, _aOff + off), ref Unsafe.Add(ref b, _bOff + off), _cols, _simd);
                    break;
                case RowOp.ScaleColumns: // a[r, :] *= b [cols]
                    RowOpsKernels.Mul(ref Unsafe.Add(ref a, _aOff + off), ref Unsafe.Add(ref b, _bOff), _cols, _simd);
                    break;
                case RowOp.AddBias: // a[r, :] += b [cols]
                    RowOpsKernels.Add(ref Unsafe.Add(ref a, _aOff + off), ref Unsafe.Add(ref b, _bOff), _cols, _simd);
                    break;
                case RowOp.RmsNormHeads: // a = x [rows, heads·D] in place, b = gamma [D]
                    for (int h = 0; h < _heads; h++)
                    {
                        ref float head = ref Unsafe.Add(ref a, _aOff + off + (nint)h * _headDim);
                        RmsNormKernel.Row(ref head, ref Unsafe.Add(ref b, _bOff), _headDim, _eps, ref head, _simd);
                    }
                    break;
                case RowOp.Rope: // a = x [rows, heads·stride], the first D of each head rotated
                    {
                        var t = _rope!;
                        int half = _headDim / 2;
                        nint p = (nint)_positions[r] * half;
                        RopeKernel.Row(ref Unsafe.Add(ref a, _aOff + off), _heads, _headStride, _headDim,
                            ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(t.Cos), p),
                            ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(t.Sin), p), _simd);
                        break;
                    }
                default:
                    throw new InvalidOperationException($"unknown row op {_op}");
            }
        }
    }
}
