// Reads Server-Sent Events "data:" payloads from a response stream until "[DONE]" or the end.
using System.Runtime.CompilerServices;

namespace Estuary.Bench.Clients;

/// <summary>SSE data-line reader.</summary>
internal static class SseReader
{
    public static async IAsyncEnumerable<string> ReadDataAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal)) continue;
            var data = line[5..].TrimStart();
            if (data == "[DONE]") yield break;
            if (data.Length > 0) yield return data;
        }
    }
}
