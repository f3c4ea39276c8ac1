// IProgress that reports on the caller's thread (System.Progress posts to the thread pool, which reorders updates).
namespace Estuary.Cli.Hosting;

/// <summary>Synchronous progress callback.</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
