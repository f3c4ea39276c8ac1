// Sends seeded, mutated requests to a running server, several at a time, and checks every answer with ResponseOracle; a
// request unanswered within the timeout is a hang. Request i is built from its own Random(seed, i), so a run's requests are
// the same whatever the concurrency or timing, and one failing request can be rebuilt from the seed and its index alone.
// Invariant: RunAsync returns only after every request it started ended (answered, hung up, or timed out and cancelled).
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;

namespace Estuary.Server.Tests.Fuzzing;

internal sealed record FuzzReport(int Requests, IReadOnlyDictionary<string, int> Outcomes, IReadOnlyList<string> Failures)
{
    public override string ToString() =>
        $"{Requests} requests: {string.Join(", ", Outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value}"))}";
}

internal static class ServerFuzzer
{
    /// <summary>The request <paramref name="index"/> of the run seeded <paramref name="seed"/>: a seed request picked and mutated by its own Random.</summary>
    public static FuzzRequest Build(int seed, int index, IReadOnlyList<(string Path, string Body)> seeds)
    {
        var random = new Random(unchecked(seed * 1_000_003 + index));
        var (path, body) = seeds[random.Next(seeds.Count)];
        return new RequestMutator(random).Next(index, path, body);
    }

    public static async Task<FuzzReport> RunAsync(HttpClient client, int seed, int count, int concurrency, TimeSpan timeout,
        IReadOnlyList<(string Path, string Body)> seeds, TextWriter? log = null)
    {
        var outcomes = new ConcurrentDictionary<string, int>();
        var failures = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (index, _) =>
        {
            var request = Build(seed, index, seeds);
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            var (outcome, failure, detail) = await SendAsync(client, request, timeout);
            if (log is not null)
            {
                var ms = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                lock (log) log.WriteLine($"#{index} {ms:0}ms {request.Path} {outcome} [{request.Description}] {detail}");
            }
            outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
            if (failure is not null) failures.Add($"{failure}\n    request: {request}");
        });
        return new FuzzReport(count, outcomes, [.. failures.OrderBy(f => f, StringComparer.Ordinal)]);
    }

    /// <summary>Sends one request and returns what came of it ("200", "400", "hung up", …) and, if it broke a rule, why.</summary>
    public static async Task<(string Outcome, string? Failure, string? Detail)> SendAsync(HttpClient client, FuzzRequest r, TimeSpan timeout)
    {
        using var hang = new CancellationTokenSource(timeout);
        using var early = CancellationTokenSource.CreateLinkedTokenSource(hang.Token);
        if (r.Hangup == Hangup.Early) early.CancelAfter(TimeSpan.FromMilliseconds(r.Index % 25));
        using var message = new HttpRequestMessage(new HttpMethod(r.Method), r.Path);
        if (r.Method == "POST") message.Content = new ByteArrayContent(r.Body);
        if (r.ContentType is not null) message.Content?.Headers.TryAddWithoutValidation("Content-Type", r.ContentType);
        HttpResponseMessage? response = null;
        try
        {
            response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, early.Token);
            var status = response.StatusCode;
            // The path as sent: the client normalizes "/v2/models/.." to "/v2", and the oracle judges the route that answered.
            var path = response.RequestMessage?.RequestUri?.AbsolutePath ?? r.Path;
            if (path.Length > 1) path = path.TrimEnd('/');
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (r.Method == "HEAD")
                return (((int)status).ToString() + " HEAD", (int)status >= 500 ? $"HEAD answered {(int)status}" : null, null);
            if ((int)status >= 300)
            {
                var body = await response.Content.ReadAsStringAsync(early.Token);
                // A NUL in the path is refused by Kestrel itself, before any middleware runs: a bare 400 that closes the connection.
                if (status == HttpStatusCode.BadRequest && body.Length == 0 && r.Path.Contains("%00", StringComparison.Ordinal)
                    && response.Headers.ConnectionClose == true)
                    return ("400 from Kestrel", null, null);
                return (((int)status).ToString(), ResponseOracle.CheckError(path, status, mediaType, body, response.Headers.RetryAfter is not null), body);
            }
            if (status != HttpStatusCode.OK) return (((int)status).ToString(), $"answered {(int)status}", null);
            if (r.Hangup == Hangup.AfterFirstBytes)
            {
                await using var stream = await response.Content.ReadAsStreamAsync(early.Token);
                _ = await stream.ReadAsync(new byte[64], early.Token);
                return ("200 hung up mid-stream", null, null); // disposing the unread response hangs up (MaxResponseDrainSize = 0)
            }
            if (mediaType == "text/event-stream")
            {
                var events = new List<string>();
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(early.Token));
                while (await reader.ReadLineAsync(early.Token) is { } line)
                {
                    if (line.StartsWith("data: ", StringComparison.Ordinal)) events.Add(line["data: ".Length..]);
                    else if (line.StartsWith("event: ", StringComparison.Ordinal) && path.StartsWith("/v1/responses", StringComparison.Ordinal)) continue;
                    else if (line.Length > 0) return ("200 stream", $"a stream line that is not an event: {line}", null);
                }
                return ("200 stream", ResponseOracle.CheckStream(path, events), null);
            }
            var whole = await response.Content.ReadAsStringAsync(early.Token);
            return ("200", ResponseOracle.CheckWhole(path, mediaType, whole), null);
        }
        catch (OperationCanceledException) when (hang.IsCancellationRequested)
        {
            return ("hang", $"no complete answer within {timeout.TotalSeconds:0} s (status {(response is null ? "none" : ((int)response.StatusCode).ToString())})", null);
        }
        catch (OperationCanceledException) when (early.IsCancellationRequested)
        {
            return ("hung up early", null, null);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            if (r.Hangup == Hangup.Early) return ("hung up early", null, null);
            // The same bare 400 for a NUL in the path, sent while a large body is still uploading: Kestrel closes the socket with
            // the body unread, so the client's write fails before it reads the answer (seen with a 1 MB body, seed 980).
            if (response is null && r.Path.Contains("%00", StringComparison.Ordinal) && r.Body.Length > 64 * 1024)
                return ("400 from Kestrel", null, null);
            // Kestrel may answer a body it will not read (413 with Content-Length) and close before the upload ends; anything else is a
            // response cut off half-way.
            return ("connection error", $"the connection broke ({e.GetType().Name}: {e.Message}{(e.InnerException is { } inner ? " / " + inner.Message : "")}; status {(response is null ? "none" : ((int)response.StatusCode).ToString())})", null);
        }
        finally
        {
            response?.Dispose();
        }
    }
}
