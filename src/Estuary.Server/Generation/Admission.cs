// A claim on the server's request capacity (running + queued); disposing it gives the capacity back exactly once.
// Invariant: the owning ServedModel's in-flight count includes Count until Dispose.
namespace Estuary.Server.Generation;

internal sealed class Admission(ServedModel model, int count) : IDisposable
{
    private int _released;

    public int Count { get; } = count;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0) model.Release(Count);
    }
}
