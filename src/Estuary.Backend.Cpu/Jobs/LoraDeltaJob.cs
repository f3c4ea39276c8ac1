// All adapters' LoRA deltas of one linear in one parallel call: a chunk is one adapter's segment, run start to finish by one
// thread (gather its rows, x·Aᵀ, ·Bᵀ, add s· into y), so a step pays one dispatch per adapted linear instead of four operations
// per adapter, and the adapters' factors stream on every core at once.
// Invariant: each segment runs exactly the operations GatherRows, MatMul, MatMul and AddRows would (the same jobs' chunks, run
// in sequence on one thread; their results do not depend on threads or chunking), so outputs are bit-identical to those calls.
using Estuary.Backend.Cpu.Kernels;
using Estuary.Backend.Cpu.Threading;
using Estuary.Tensors;

namespace Estuary.Backend.Cpu.Jobs;

/// <summary>One TryAddLoraDeltas call's state; scratch per worker, grown on demand by <see cref="Prepare"/> on the calling thread.</summary>
internal sealed class LoraDeltaJob : ParallelJob
{
    private readonly Worker[] _workers;
    private LoraSegment[] _segments = [];
    private int[] _rows = [];
    private int _count;
    private CpuTensor? _x, _y;
    private bool _simd;

    public LoraDeltaJob(int threads)
    {
        _workers = new Worker[threads];
        for (int i = 0; i < threads; i++) _workers[i] = new Worker();
    }

    /// <summary>Copies the call's segments and rows, sizes every worker's scratch for the largest segment; returns the chunk count.</summary>
    public int Prepare(CpuTensor x, ReadOnlySpan<int> rows, ReadOnlySpan<LoraSegment> segments, CpuTensor y, bool simd)
    {
        _x = x; _y = y; _simd = simd;
        _count = segments.Length;
        if (_segments.Length < _count) _segments = new LoraSegment[Math.Max(_count, 2 * _segments.Length)];
        if (_rows.Length < rows.Length) _rows = new int[Math.Max(rows.Length, 2 * _rows.Length)];
        segments.CopyTo(_segments);
        rows.CopyTo(_rows);
        int maxRows = 0, maxRank = 0;
        foreach (var s in segments)
        {
            maxRows = Math.Max(maxRows, s.Count);
            maxRank = Math.Max(maxRank, s.A.Rows);
        }
        foreach (var w in _workers) w.Reserve(maxRows, x.Cols, maxRank, y.Cols);
        return _count;
    }

    /// <summary>Drops references to the call's tensors and weights.</summary>
    public void Clear()
    {
        _x = null; _y = null;
        Array.Clear(_segments, 0, _count);
    }

    public override void Execute(int chunk, int worker)
    {
        var s = _segments[chunk];
        var w = _workers[worker];
        var x = _x!;
        var y = _y!;
        var rows = _rows.AsSpan(s.Start, s.Count);
        var input = w.Input.View(s.Count, x.Cols);   // [n, K]
        for (int i = 0; i < rows.Length; i++) x.Row(rows[i]).CopyTo(input.Row(i));
        var down = w.Down.View(s.Count, s.A.Rows);   // [n, r]
        w.MatMul(input, s.A, down, _simd);
        var up = w.Up.View(s.Count, y.Cols);         // [n, N]
        w.MatMul(down, s.B, up, _simd);
        for (int i = 0; i < rows.Length; i++) RowOpsKernels.AddScaled(up.Row(i), s.Scale, y.Row(rows[i]));
    }

    // One thread's matmul jobs (run chunk by chunk on that thread) and scratch tensors.
    private sealed class Worker
    {
        private readonly FloatMatMul _matMul = new(threads: 1);

        public Scratch Input { get; } = new();
        public Scratch Down { get; } = new();
        public Scratch Up { get; } = new();

        public void Reserve(int rows, int inputCols, int rank, int outputCols)
        {
            Input.Reserve(rows * inputCols);
            Down.Reserve(rows * rank);
            Up.Reserve(rows * outputCols);
        }

        // The backend's MatMul, every chunk on this thread.
        public void MatMul(CpuTensor x, Weight w, CpuTensor y, bool simd) => _matMul.Run(x, w, y, simd, pool: null);
    }

    // A pinned float buffer viewed as [rows, cols] tensors; grows, never shrinks. Views are cached per shape, so a step after
    // warm-up allocates nothing.
    private sealed class Scratch
    {
        private readonly Dictionary<(int Rows, int Cols), CpuTensor> _views = [];
        private float[] _data = [];

        public void Reserve(int length)
        {
            if (_data.Length >= length) return;
            _data = GC.AllocateArray<float>(Math.Max(length, 2 * _data.Length), pinned: true);
            _views.Clear();
        }

        public CpuTensor View(int rows, int cols)
        {
            if (!_views.TryGetValue((rows, cols), out var view)) _views[(rows, cols)] = view = new CpuTensor(_data, 0, rows, cols);
            return view;
        }
    }
}
