// A small fork-join pool: the caller plus NumThreads-1 workers claim chunks with an atomic counter.
// Invariant: every wait is a bounded spin (SpinMicroseconds) and then a block in the kernel — the caller's wait for the last worker
// and each worker's wait for the next job — so a core taken by another process costs at most one spin per call, never a collapse
// (chunks are claimed dynamically: no thread waits for a particular other thread's share).
using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Estuary.Backend.Cpu.Threading;

/// <summary>Runs a <see cref="ParallelJob"/>'s chunks on the calling thread and background workers; one Run at a time.</summary>
internal sealed class WorkerPool : IDisposable
{
    /// <summary>
    /// How long a waiting thread spins before it blocks. Decode runs about 180 small jobs per TinyLlama token a few µs apart; a blocked
    /// thread takes a futex wake (tens of µs on a virtual machine) to resume. Kernel benchmark `overhead` (2 threads, each call
    /// after ~18 µs of caller-only work, spin and no spin alternating round by round; two runs): INT4 [256, 2048] matvec 17.0–18.0 →
    /// 10.1–10.8 µs, decode attention at 64 keys 10.7–15.5 → 8.4–8.7 µs, BF16 [256, 2048] 19.7–20.1 → 17.1 µs.
    /// </summary>
    public const double SpinMicroseconds = 50;

    // Worker states: spinning or about to wait (Idle), blocked on its semaphore (Sleeping), handed a job (Go).
    private const int Idle = 0, Sleeping = 1, Go = 2;

    private readonly Thread[] _threads;          // [NumThreads - 1]
    private readonly SemaphoreSlim[] _wake;      // [NumThreads - 1] released to start a Sleeping worker
    private readonly int[] _state;               // [NumThreads - 1] Idle, Sleeping or Go
    private readonly ManualResetEventSlim _done = new(false, spinCount: 1);
    private ParallelJob? _job;
    private int _chunks;
    private int _next;
    private int _pending;
    private Exception? _error;
    private volatile bool _disposed;
    private long _startedAt, _finishedAt;        // Stopwatch timestamps: the current job's start, a worker's last finish
    private AdaptiveSpin _callerSpin = AdaptiveSpin.Initial;

    public WorkerPool(int numThreads)
    {
        if (numThreads <= 0) throw new ArgumentOutOfRangeException(nameof(numThreads), $"thread count must be positive, got {numThreads}");
        NumThreads = numThreads;
        _threads = new Thread[numThreads - 1];
        _wake = new SemaphoreSlim[numThreads - 1];
        _state = new int[numThreads - 1];
        // ManualResetEventSlim creates its lock object (24 bytes) on the first Wait that blocks; block once here, so the caller's
        // first blocking wait on the hot path (which comes late, when the adaptive spin gives up) allocates nothing.
        _done.Wait(1);
        for (int i = 0; i < _threads.Length; i++)
        {
            _wake[i] = new SemaphoreSlim(0);
            _threads[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"estuary-cpu-{i + 1}" };
            _threads[i].Start(i + 1);
        }
    }

    /// <summary>Threads that execute chunks, the caller included.</summary>
    public int NumThreads { get; }

    /// <summary>Spin budget in Stopwatch ticks (benchmarks set 0 to measure the pool without spinning).</summary>
    internal static long SpinTicks { get; set; } = (long)(SpinMicroseconds * Stopwatch.Frequency / 1e6);

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
        _startedAt = Stopwatch.GetTimestamp();
        for (int i = 0; i < helpers; i++) Start(i); // full fence: workers see the fields above
        Work(0);
        long waitFrom = Stopwatch.GetTimestamp();
        SpinUntil(ref _pending, 0, _callerSpin.Budget);
        _done.Wait();
        _callerSpin.Record(Volatile.Read(ref _finishedAt) - waitFrom);
        _job = null;
        if (_error is { } e) ExceptionDispatchInfo.Capture(e).Throw();
    }

    // Hands worker i the job: a spinning worker sees Go; a sleeping one is also woken.
    private void Start(int i)
    {
        if (Interlocked.Exchange(ref _state[i], Go) == Sleeping) _wake[i].Release();
    }

    // Spins until field == value or `ticks` run out; true when it holds.
    private static bool SpinUntil(ref int field, int value, long ticks)
    {
        if (Volatile.Read(ref field) == value) return true;
        if (ticks <= 0) return false;
        long until = Stopwatch.GetTimestamp() + ticks;
        do
        {
            Thread.SpinWait(20);
            if (Volatile.Read(ref field) == value) return true;
        } while (Stopwatch.GetTimestamp() < until);
        return false;
    }

    /// <summary>
    /// One waiting thread's spin budget: full while most of its recent waits ended within SpinTicks, else none (the thread blocks at
    /// once). Each wait is judged by when its event happened, not by when the thread noticed, so a thread that blocked still learns
    /// that spinning would have paid. When another process takes a core, waits for a descheduled thread run long and spinning stops.
    /// </summary>
    private struct AdaptiveSpin
    {
        private int _shortWaits; // of the last Window waits (exponentially weighted, ×Scale)
        private const int Window = 16, Scale = 1 << 10;

        public readonly long Budget => _shortWaits >= Scale / 2 ? SpinTicks : 0;

        public void Record(long waited)
        {
            int outcome = waited <= SpinTicks ? Scale : 0;
            _shortWaits += (outcome - _shortWaits) / Window;
        }

        public static AdaptiveSpin Initial => new() { _shortWaits = Scale };
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
        int worker = (int)state!, i = worker - 1;
        var wake = _wake[i];
        var spin = AdaptiveSpin.Initial;
        while (true)
        {
            // Spin for the next job, then announce sleep; if Start got in first the state is already Go and the worker runs on.
            long waitFrom = Stopwatch.GetTimestamp();
            if (!SpinUntil(ref _state[i], Go, spin.Budget) && Interlocked.CompareExchange(ref _state[i], Sleeping, Idle) == Idle)
                wake.Wait(); // Start saw Sleeping and released the semaphore
            Volatile.Write(ref _state[i], Idle); // before the job's work: the next Start comes only after _pending reaches 0
            if (_disposed) return;
            spin.Record(Volatile.Read(ref _startedAt) - waitFrom);
            Work(worker);
            Volatile.Write(ref _finishedAt, Stopwatch.GetTimestamp());
            if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        for (int i = 0; i < _threads.Length; i++) Start(i);
        foreach (var t in _threads) t.Join();
        foreach (var w in _wake) w.Dispose();
        _done.Dispose();
    }
}
