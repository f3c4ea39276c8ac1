// WorkerPool: every chunk runs exactly once and all of a job's chunks are done when Run returns, with calls back to back (workers
// spinning), after pauses around the spin budget (workers deciding to block) and after long ones (workers asleep), for chunks of very
// different lengths; failures reach the caller and the pool keeps working.
using Estuary.Backend.Cpu.Threading;

namespace Estuary.BackendCpu.Tests;

public sealed class WorkerPoolTests
{
    // Counts executions per chunk; a chunk executed after Run returned would show up as a count the caller did not expect.
    private sealed class CountingJob(int maxChunks) : ParallelJob
    {
        public readonly int[] Counts = new int[maxChunks];
        public int SpinPerChunk;

        public override void Execute(int chunk, int worker)
        {
            Thread.SpinWait(SpinPerChunk);
            Interlocked.Increment(ref Counts[chunk]);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void EveryChunkRunsExactlyOnceAndIsDoneWhenRunReturns(int threads)
    {
        using var pool = new WorkerPool(threads);
        var job = new CountingJob(64);
        var rng = new Random(threads);
        for (int call = 0; call < 3000; call++)
        {
            int chunks = rng.Next(1, 65);
            job.SpinPerChunk = rng.Next(0, 3) switch { 0 => 0, 1 => 50, _ => 2000 };
            Array.Clear(job.Counts);
            pool.Run(job, chunks);
            for (int c = 0; c < job.Counts.Length; c++)
                Assert.Equal(c < chunks ? 1 : 0, Volatile.Read(ref job.Counts[c]));
            if (call % 500 == 499) Thread.Sleep(2); // the workers block and must be woken
            else if (rng.Next(4) == 0) Pause(rng.Next(20, 120)); // around the spin budget: a worker may be deciding to block as Run starts
        }
    }

    // Busy-waits about the given number of microseconds (the caller stays on its core, as between a decode step's operations).
    private static void Pause(int microseconds)
    {
        long until = System.Diagnostics.Stopwatch.GetTimestamp() + microseconds * System.Diagnostics.Stopwatch.Frequency / 1_000_000;
        while (System.Diagnostics.Stopwatch.GetTimestamp() < until) Thread.SpinWait(10);
    }

    private sealed class FailingJob : ParallelJob
    {
        public override void Execute(int chunk, int worker)
        {
            if (chunk == 3) throw new InvalidOperationException("chunk 3 failed");
        }
    }

    [Fact]
    public void AChunkFailureReachesTheCallerAndThePoolKeepsWorking()
    {
        using var pool = new WorkerPool(2);
        var e = Assert.Throws<InvalidOperationException>(() => pool.Run(new FailingJob(), 8));
        Assert.Equal("chunk 3 failed", e.Message);
        var job = new CountingJob(8);
        pool.Run(job, 8);
        Assert.All(job.Counts, c => Assert.Equal(1, c));
    }
}
