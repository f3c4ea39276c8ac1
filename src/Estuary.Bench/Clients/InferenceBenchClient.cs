// Drives the simple Flask-style API: POST /inference?streaming=true with the prompt as one user message; chunked text/plain.
// The original API has no length control; max_tokens/ignore_eos are sent as extra fields, which Estuary honours.
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Estuary.Bench.Stats;
using Estuary.Bench.Workloads;
using Estuary.Tokenization;

namespace Estuary.Bench.Clients;

/// <summary>/inference dialect.</summary>
public sealed class InferenceBenchClient(HttpClient http, Uri baseUri, TextTokenizer tokenizer, string? apiKey = null) : IBenchClient
{
    /// <inheritdoc />
    public string Name => "inference";

    /// <inheritdoc />
    public async Task<RequestResult> SendAsync(BenchRequest request, Stopwatch clock, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = request.Prompt }),
            ["max_tokens"] = request.OutputLength,
            ["ignore_eos"] = true,
        };
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, "inference?streaming=true"))
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (apiKey != null) message.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        var timer = new StreamTimer(clock);
        try
        {
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                return OpenAiBenchClient.Failed(request, timer, await OpenAiBenchClient.HttpFailureAsync(response, cancellationToken).ConfigureAwait(false));
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var decoder = Encoding.UTF8.GetDecoder();
            var bytes = new byte[4096];
            var chars = new char[4096 + 4];
            int n;
            while ((n = await stream.ReadAsync(bytes, cancellationToken).ConfigureAwait(false)) > 0)
            {
                int c = decoder.GetChars(bytes, 0, n, chars, 0);
                timer.OnText(new string(chars, 0, c));
            }
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return OpenAiBenchClient.Failed(request, timer, OpenAiBenchClient.Message(e));
        }
        return TritonBenchClient.TokenizerCounted(request, timer, tokenizer);
    }
}
