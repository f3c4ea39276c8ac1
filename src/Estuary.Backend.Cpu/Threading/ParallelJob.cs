// A unit of parallel work for WorkerPool: Execute(chunk, worker) for every chunk index, each exactly once.
namespace Estuary.Backend.Cpu.Threading;

/// <summary>Work split into independent chunks; jobs are preallocated and reused, so a call allocates nothing.</summary>
internal abstract class ParallelJob
{
    /// <summary>Runs chunk <paramref name="chunk"/> on worker <paramref name="worker"/> (0 = calling thread); worker indexes per-thread scratch.</summary>
    public abstract void Execute(int chunk, int worker);
}
