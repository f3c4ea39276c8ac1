// A small fork-join pool: the caller plus NumThreads-1 blocking workers claim chunks with an atomic counter.
// Invariant: workers sleep on semaphores between calls (no spin-waiting), so a core stolen by another process only slows us.
using System.Runtime.ExceptionServices;

namespace Estuary.Backend.Cpu.Threading;

/// <summary>Runs a <see cref="ParallelJob"/>'s chunks on the calling thread and background workers; one Run at a time.</summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;          // [NumThreads - 1]
    private readonly SemaphoreSlim[] _wake;      // [NumThreads - 1] one per worker, released to start a job
    private readonly ManualResetEventSlim _done = new(false, spinCount: 1);
    private ParallelJob? _job;
    private int _chunks;
    private int _next;
    private int _pending;
    private Exception? _error;
    private volatile bool _disposed;

    public WorkerPool(int numThreads)
    {
        if (numThreads <= 0) throw new ArgumentOutOfRangeException(nameof(numThreads), $"thread count must be positive, got {numThreads}");
        NumThreads = numThreads;
        _threads = new Thread[numThreads - 1];
        _wake = new SemaphoreSlim[numThreads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _wake[i] = new SemaphoreSlim(0);
            _threads[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"estuary-cpu-{i + 1}" };
            _threads[i].Start(i + 1);
        }
    }

    /// <summary>Threads that execute chunks, the caller included.</summary>
    public int NumThreads { get; }

    /// <summary>Executes chunks 0..<paramref name="chunks"/>-1 of <paramref name="job"/> and returns when all are done; rethrows the first failure.</summary>
    public void Run(ParallelJob job, int chunks)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (chunks <= 0) return;
        int helpers = Math.Min(NumThreads - 1, chunks - 1);
        if (helpers == 0)
        {
            for (int c = 0; c < chunks; c++) job.Execute(c, 0);
            return;
        }
        _job = job;
        _chunks = chunks;
        _error = null;
        Volatile.Write(ref _next, 0);
        Volatile.Write(ref _pending, helpers);
        _done.Reset();
        for (int i = 0; i < helpers; i++) _wake[i].Release(); // full fence: workers see the fields above
        Work(0);
        _done.Wait();
        _job = null;
        if (_error is { } e) ExceptionDispatchInfo.Capture(e).Throw();
    }

    private void Work(int worker)
    {
        var job = _job!;
        while (true)
        {
            int c = Interlocked.Increment(ref _next) - 1;
            if (c >= _chunks) return;
            try
            {
                job.Execute(c, worker);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
                Volatile.Write(ref _next, _chunks); // stop handing out chunks
                return;
            }
        }
    }

    private void WorkerLoop(object? state)
    {
        int worker = (int)state!;
        var wake = _wake[worker - 1];
        while (true)
        {
            wake.Wait(); // blocks in the kernel after a short spin
            if (_disposed) return;
            Work(worker);
            if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var w in _wake) w.Release();
        foreach (var t in _threads) t.Join();
        foreach (var w in _wake) w.Dispose();
        _done.Dispose();
    }
}
