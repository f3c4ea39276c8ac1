// y = x · wᵀ for float weights: the packed job for Interleaved16 weights, the row-major job otherwise, run on a worker pool or, for
// a caller that is itself one chunk of a parallel job (LoRA deltas), chunk by chunk on the calling thread.
// Invariant: the result does not depend on which of the two ways runs it (the jobs' outputs do not depend on threads or chunking).
using Estuary.Backend.Cpu.Threading;
using Estuary.Tensors;

namespace Estuary.Backend.Cpu.Jobs;

/// <summary>The two float matmul jobs and how to run them; shapes are checked by the caller.</summary>
internal sealed unsafe class FloatMatMul(int threads)
{
    private readonly MatMulJob _rowMajor = new(threads);
    private readonly PackedMatMulJob _packed = new(threads);

    /// <summary>Runs y[T, N] = x[T, K] · w[N, K]ᵀ on <paramref name="pool"/>, or on this thread alone when it is null.</summary>
    public void Run(CpuTensor x, Weight w, CpuTensor y, bool simd, WorkerPool? pool)
    {
        int threads = pool?.NumThreads ?? 1;
        if (w.Layout == WeightLayout.Interleaved16)
        {
            fixed (float* px = &x.Row(0)[0])
            fixed (float* py = &y.Row(0)[0])
            {
                int n = _packed.Prepare(x, px, w, y, py, simd, threads);
                try
                {
                    for (int phase = 0; phase < _packed.Phases; phase++)
                    {
                        _packed.SetPhase(phase);
                        Execute(_packed, n, pool);
                    }
                }
                finally { _packed.Clear(); }
            }
            return;
        }
        int chunks = _rowMajor.Prepare(x, w, y, simd, threads);
        try { Execute(_rowMajor, chunks, pool); }
        finally { _rowMajor.Clear(); }
    }

    private static void Execute(ParallelJob job, int chunks, WorkerPool? pool)
    {
        if (pool != null) pool.Run(job, chunks);
        else for (int c = 0; c < chunks; c++) job.Execute(c, 0);
    }
}
