// Writes an error in the shape of the API family the path belongs to: Triton's {"error": "…"} under /v2, OpenAI's
// {"error": {message, type, param, code}} everywhere else (it names the field, which /inference clients want too).
// Invariant: 503s always carry Retry-After; nothing is written once the response has started.
using System.Text.Json;
using Estuary.Server.Generation;
using Microsoft.AspNetCore.Http;

namespace Estuary.Server.Http;

internal static class ErrorResponses
{
    public const int RetryAfterSeconds = 1;

    public static Task WriteAsync(HttpContext context, RequestException e) => WriteAsync(context, e.Status, e.Message, e.Param, e.Code);

    public static async Task WriteAsync(HttpContext context, int status, string message, string? param, string? code = null)
    {
        var response = context.Response;
        if (response.HasStarted) return;
        response.Clear();
        response.StatusCode = status;
        if (status == StatusCodes.Status503ServiceUnavailable) response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.ContentType = "application/json; charset=utf-8";
        object body = context.Request.Path.StartsWithSegments("/v2")
            ? new TritonError(message)
            : new OpenAiErrorEnvelope(new OpenAiError(message, TypeOf(status), param, code));
        await response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(body, ApiJson.Options));
    }

    private static string TypeOf(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "authentication_error",
        StatusCodes.Status404NotFound => "not_found_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

    private sealed record TritonError(string Error);

    private sealed record OpenAiErrorEnvelope(OpenAiError Error);

    private sealed record OpenAiError(string Message, string Type, string? Param, string? Code);
}
