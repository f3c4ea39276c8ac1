// Interleaves several engine streams (n choices, several prompts) into one, tagged with each stream's index, as outputs arrive.
// Invariant: leaving the merged enumeration (done, failed or cancelled) cancels every source, which aborts their requests.
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Estuary.Engine;

namespace Estuary.Server.Generation;

internal static class StreamMerger
{
    public static async IAsyncEnumerable<(int Index, RequestOutput Output)> Merge(IReadOnlyList<IAsyncEnumerable<RequestOutput>> streams,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (streams.Count == 1)
        {
            await foreach (var o in streams[0].WithCancellation(cancellationToken)) yield return (0, o);
            yield break;
        }
        var channel = Channel.CreateUnbounded<(int, RequestOutput)>(new UnboundedChannelOptions { SingleReader = true });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pumps = new Task[streams.Count];
        for (int i = 0; i < streams.Count; i++) pumps[i] = Pump(streams[i], i, channel.Writer, cts.Token);
        _ = Task.WhenAll(pumps).ContinueWith(t => channel.Writer.TryComplete(t.Exception?.InnerException), TaskScheduler.Default);
        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken)) yield return item;
        }
        finally
        {
            await cts.CancelAsync();
            try
            {
                await Task.WhenAll(pumps);
            }
            catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or ObjectDisposedException)
            {
                // already reported through the channel, or cancelled on purpose
            }
        }
    }

    private static async Task Pump(IAsyncEnumerable<RequestOutput> stream, int index, ChannelWriter<(int, RequestOutput)> writer, CancellationToken ct)
    {
        await foreach (var o in stream.WithCancellation(ct)) await writer.WriteAsync((index, o), ct);
    }
}
