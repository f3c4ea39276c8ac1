// A claim on the server's request capacity (running + queued) for one HTTP request, and the token its engine streams run under.
// Invariant: the owning ServedModel's in-flight count includes Count until Dispose; Dispose first cancels Token, which aborts every
// stream started under it that has not finished, read or not (a request that fails after starting some streams leaves no work behind).
namespace Estuary.Server.Generation;

internal sealed class Admission : IDisposable
{
    private readonly ServedModel _model;
    private readonly CancellationTokenSource _streams;
    private int _released;

    public Admission(ServedModel model, int count, CancellationToken requestAborted)
    {
        _model = model;
        Count = count;
        _streams = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
    }

    public int Count { get; }

    /// <summary>Pass to <see cref="ServedModel.Start"/>: cancelled when the client goes away or the request's handler ends.</summary>
    public CancellationToken Token => _streams.Token;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        _streams.Cancel();
        _streams.Dispose();
        _model.Release(Count);
    }
}
