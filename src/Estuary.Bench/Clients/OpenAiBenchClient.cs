// Drives an OpenAI-compatible server (ours, vLLM, …) with streamed chat or completions requests; counts from `usage`.
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Estuary.Bench.Stats;
using Estuary.Bench.Workloads;
using Estuary.Tokenization;

namespace Estuary.Bench.Clients;

/// <summary>OpenAI dialect.</summary>
public sealed class OpenAiBenchClient(HttpClient http, Uri baseUri, string model, bool chat, TextTokenizer tokenizer, string? apiKey = null) : IBenchClient
{
    /// <inheritdoc />
    public string Name => chat ? "openai-chat" : "openai-completions";

    /// <inheritdoc />
    public async Task<RequestResult> SendAsync(BenchRequest request, Stopwatch clock, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["max_tokens"] = request.OutputLength,
            ["ignore_eos"] = true,
            ["temperature"] = 0,
            ["stream"] = true,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
        };
        if (chat) body["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = request.Prompt });
        else body["prompt"] = request.Prompt;
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, chat ? "v1/chat/completions" : "v1/completions"))
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (apiKey != null) message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        var timer = new StreamTimer(clock);
        int? promptTokens = null, completionTokens = null;
        try
        {
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                return Failed(request, timer, await HttpFailureAsync(response, cancellationToken).ConfigureAwait(false));
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await foreach (var data in SseReader.ReadDataAsync(stream, cancellationToken).ConfigureAwait(false))
            {
                using var doc = ServerEvent.Parse(data);
                var root = doc.RootElement;
                if (ServerEvent.FirstChoice(root) is { } c)
                {
                    string? delta = chat
                        ? c.TryGetProperty("delta", out var d) && d.ValueKind == JsonValueKind.Object ? ServerEvent.Text(d, "content") : null
                        : ServerEvent.Text(c, "text");
                    timer.OnText(delta);
                }
                if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    promptTokens = ServerEvent.Count(usage, "prompt_tokens");
                    completionTokens = ServerEvent.Count(usage, "completion_tokens");
                }
            }
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or IOException or BenchProtocolException)
        {
            return Failed(request, timer, Message(e));
        }
        return new RequestResult
        {
            Index = request.Index,
            Success = timer.Ttft != null,
            Error = timer.Ttft == null ? "no text received" : null,
            PromptTokens = promptTokens ?? request.PromptIds.Length,
            OutputTokens = completionTokens ?? tokenizer.Encode(timer.Text, addSpecialTokens: false).Length,
            CountsFromServer = completionTokens != null,
            RequestedOutputTokens = request.OutputLength,
            Ttft = timer.Ttft ?? 0,
            Latency = timer.Elapsed,
            InterTokenLatencies = timer.Itl,
            StartOffset = timer.StartOffset,
            Text = timer.Text,
        };
    }

    /// <summary>
    /// "HTTP 503: {body}". HttpClient follows redirects, but a 301/302 turns the POST into a GET, whose error (often a 404 or 405)
    /// hides the cause: that case names the redirect and where it led. 307/308 keep the POST and simply work.
    /// </summary>
    internal static async Task<string> HttpFailureAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        string failure = $"HTTP {(int)response.StatusCode}: {body}";
        return response.RequestMessage is { Method.Method: "GET", RequestUri: { } landed }
            ? $"the server redirected the POST to {landed}, which turned it into a GET ({failure}); use that address as --base-url"
            : failure;
    }

    /// <summary>The exception's message with the inner cause HttpClient hides ("An error occurred while sending the request.").</summary>
    internal static string Message(Exception e) =>
        e is HttpRequestException { InnerException: { } inner } ? $"{e.Message} ({inner.Message})" : e.Message;

    internal static RequestResult Failed(BenchRequest request, StreamTimer timer, string error) => new()
    {
        Index = request.Index,
        Success = false,
        Error = error.Length > 300 ? error[..300] : error,
        Latency = timer.Elapsed,
        StartOffset = timer.StartOffset,
    };
}
