// Server-sent events over an HTTP response: headers once, then one flushed "data: …" event (named or not) at a time.
// Invariant: every event is written whole and flushed before the next, so a client sees each delta as soon as it exists.
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Estuary.Server.Http;

internal sealed class SseWriter
{
    private static readonly byte[] s_prefix = "data: "u8.ToArray();
    private static readonly byte[] s_suffix = "\n\n"u8.ToArray();
    private readonly HttpResponse _response;

    public SseWriter(HttpResponse response)
    {
        _response = response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }

    public Task WriteAsync<T>(T value, JsonSerializerOptions options, CancellationToken cancellationToken) =>
        WriteRawAsync(JsonSerializer.SerializeToUtf8Bytes(value, options), cancellationToken);

    /// <summary>A named event ("event: NAME" then "data: …"), as the Responses API streams.</summary>
    public async Task WriteEventAsync(string name, System.Text.Json.Nodes.JsonNode value, CancellationToken cancellationToken)
    {
        await _response.Body.WriteAsync(Encoding.UTF8.GetBytes("event: " + name + "\n"), cancellationToken);
        await WriteRawAsync(Encoding.UTF8.GetBytes(value.ToJsonString(ApiJson.Options)), cancellationToken);
    }

    public Task WriteDoneAsync(CancellationToken cancellationToken) => WriteRawAsync("[DONE]"u8.ToArray(), cancellationToken);

    private async Task WriteRawAsync(byte[] payload, CancellationToken cancellationToken)
    {
        var body = _response.Body;
        await body.WriteAsync(s_prefix, cancellationToken);
        await body.WriteAsync(payload, cancellationToken);
        await body.WriteAsync(s_suffix, cancellationToken);
        await body.FlushAsync(cancellationToken);
    }

    /// <summary>Plain-text chunked streaming for /inference (no event framing).</summary>
    public static async Task WriteTextAsync(HttpResponse response, string text, CancellationToken cancellationToken)
    {
        if (text.Length == 0) return;
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }
}
