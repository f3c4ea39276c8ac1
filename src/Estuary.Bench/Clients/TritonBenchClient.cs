// Drives the Triton / TensorRT-LLM generate API: generate_stream (SSE text_output deltas) or generate (one response).
// That API reports no usage, so token counts come from the target tokenizer.
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Estuary.Bench.Stats;
using Estuary.Bench.Workloads;
using Estuary.Tokenization;

namespace Estuary.Bench.Clients;

/// <summary>Triton generate dialect.</summary>
public sealed class TritonBenchClient(HttpClient http, Uri baseUri, string model, bool stream, TextTokenizer tokenizer) : IBenchClient
{
    /// <inheritdoc />
    public string Name => stream ? "triton-stream" : "triton";

    /// <inheritdoc />
    public async Task<RequestResult> SendAsync(BenchRequest request, Stopwatch clock, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["text_input"] = request.Prompt,
            ["max_tokens"] = request.OutputLength,
            ["bad_words"] = "",
            ["stop_words"] = "",
            ["ignore_eos"] = true, // honoured by Estuary; TensorRT-LLM users pass an end_id that never occurs instead
            ["exclude_input_in_output"] = true,
            ["stream"] = stream,
        };
        var path = $"v2/models/{Uri.EscapeDataString(model)}/{(stream ? "generate_stream" : "generate")}";
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUri, path))
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        var timer = new StreamTimer(clock);
        try
        {
            using var response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                return OpenAiBenchClient.Failed(request, timer, await OpenAiBenchClient.HttpFailureAsync(response, cancellationToken).ConfigureAwait(false));
            if (stream)
            {
                await using var s = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await foreach (var data in SseReader.ReadDataAsync(s, cancellationToken).ConfigureAwait(false))
                {
                    using var doc = ServerEvent.Parse(data);
                    timer.OnText(ServerEvent.Text(doc.RootElement, "text_output"));
                }
            }
            else
            {
                using var doc = ServerEvent.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
                timer.OnText(ServerEvent.Text(doc.RootElement, "text_output") ?? throw new BenchProtocolException("'text_output' is missing"));
            }
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or IOException or BenchProtocolException)
        {
            return OpenAiBenchClient.Failed(request, timer, OpenAiBenchClient.Message(e));
        }
        return TokenizerCounted(request, timer, tokenizer);
    }

    internal static RequestResult TokenizerCounted(BenchRequest request, StreamTimer timer, TextTokenizer tokenizer) => new()
    {
        Index = request.Index,
        Success = timer.Ttft != null,
        Error = timer.Ttft == null ? "no text received" : null,
        PromptTokens = request.PromptIds.Length,
        OutputTokens = tokenizer.Encode(timer.Text, addSpecialTokens: false).Length,
        RequestedOutputTokens = request.OutputLength,
        Ttft = timer.Ttft ?? 0,
        Latency = timer.Elapsed,
        InterTokenLatencies = timer.Itl,
        StartOffset = timer.StartOffset,
        Text = timer.Text,
    };
}
