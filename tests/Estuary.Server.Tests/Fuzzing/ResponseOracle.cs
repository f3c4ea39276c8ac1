// What every answer to a fuzzed request must look like, whatever the request was: no 5xx but a 503 with Retry-After for a
// full queue; 4xx bodies in the path's error shape with a message that names the problem (and no .NET type names or stack
// traces); 200 bodies whole and well formed; streams ending properly (OpenAI: every choice finished, then [DONE]).
// Invariant: Check returns null for an acceptable answer and otherwise one line saying what is wrong.
using System.Net;
using System.Text.Json;

namespace Estuary.Server.Tests.Fuzzing;

internal static class ResponseOracle
{
    // Fragments that mean an exception's text or a .NET type reached the client instead of a message about the request.
    private static readonly string[] s_leaks =
    [
        "System.", "`1", "Exception", "   at ", "Nullable", "Object reference", "Estuary.", "An item with the same key", "(Parameter '",
        "Specified argument", "Value cannot be null", "Index was outside", "Sequence contains", "Input string was not", "isFinalBlock",
        "reader options", "Arithmetic operation", "Unable to cast", "The given key", "LineNumber", "BytePosition",
        "'$' is not valid text", "'$' has ", "'$.", "'$[", // the body's JSON path where a field's name belongs
    ];

    /// <summary>An error response: status, Content-Type and body.</summary>
    public static string? CheckError(string path, HttpStatusCode status, string? mediaType, string body, bool hasRetryAfter)
    {
        int code = (int)status;
        if (code >= 500 && code != 503) return $"answered {code}: {body}";
        if (code == 503 && !hasRetryAfter) return $"503 without Retry-After: {body}";
        if (mediaType != "application/json") return $"{code} with Content-Type {mediaType ?? "none"}: {body}";
        string? message;
        try
        {
            using var doc = JsonDocument.Parse(body);
            var error = doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var e) ? e : default;
            if (path.StartsWith("/v2", StringComparison.Ordinal))
            {
                if (error.ValueKind != JsonValueKind.String || doc.RootElement.EnumerateObject().Count() != 1)
                    return $"{code} not in Triton's error shape {{\"error\": \"…\"}}: {body}";
                message = error.GetString();
            }
            else
            {
                if (error.ValueKind != JsonValueKind.Object || !error.TryGetProperty("message", out var m) || m.ValueKind != JsonValueKind.String
                    || !error.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                    || !error.TryGetProperty("param", out var param) || param.ValueKind is not (JsonValueKind.String or JsonValueKind.Null)
                    || !error.TryGetProperty("code", out var c) || c.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                    return $"{code} not in OpenAI's error shape {{\"error\": {{message, type, param, code}}}}: {body}";
                if (param.ValueKind == JsonValueKind.String && param.GetString()!.Length == 0) return $"{code} with an empty param: {body}";
                message = m.GetString();
            }
        }
        catch (JsonException)
        {
            return $"{code} with a body that is not JSON: {body}";
        }
        if (string.IsNullOrWhiteSpace(message) || message.Length < 12) return $"{code} without a message that says what is wrong: {body}";
        foreach (var leak in s_leaks)
            if (message.Contains(leak, StringComparison.Ordinal)) return $"{code} whose message shows internals ('{leak}'): {body}";
        return null;
    }

    /// <summary>A 200 answer read whole (not a stream).</summary>
    public static string? CheckWhole(string path, string? mediaType, string body)
    {
        if (path.StartsWith("/inference", StringComparison.Ordinal))
            return mediaType == "text/plain" ? null : $"200 from /inference with Content-Type {mediaType}";
        if (path.StartsWith("/metrics", StringComparison.Ordinal))
            return body.Contains("estuary_num_requests_running", StringComparison.Ordinal) ? null : $"/metrics without the engine's gauges: {body}";
        if (path.StartsWith("/v2/health", StringComparison.Ordinal) || path.EndsWith("/ready", StringComparison.Ordinal)) return null; // 200, no body
        if (mediaType != "application/json") return $"200 with Content-Type {mediaType ?? "none"}: {body}";
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (path.StartsWith("/v1/models", StringComparison.Ordinal)) root.GetProperty(path == "/v1/models" ? "data" : "id");
            else if (path.StartsWith("/v2/models/", StringComparison.Ordinal) && !path.Contains("/generate", StringComparison.Ordinal)) root.GetProperty("inputs");
            else if (path is "/v2" or "/health" or "/version") root.GetProperty(path == "/health" ? "status" : "version");
            else if (path.StartsWith("/v1/responses", StringComparison.Ordinal))
            {
                var status = root.GetProperty("status").GetString();
                if (status is not ("completed" or "incomplete")) return $"a response with status {status}: {body}";
                if ((status == "incomplete") != (root.GetProperty("incomplete_details").ValueKind == JsonValueKind.Object))
                    return $"incomplete_details do not match the status: {body}";
                foreach (var item in root.GetProperty("output").EnumerateArray())
                    if (item.GetProperty("type").GetString() is not ("message" or "reasoning" or "function_call")) return $"an unknown output item: {body}";
                root.GetProperty("usage").GetProperty("total_tokens").GetInt32();
            }
            else if (path.StartsWith("/v1/", StringComparison.Ordinal))
            {
                var choices = root.GetProperty("choices");
                if (choices.GetArrayLength() == 0) return $"200 without choices: {body}";
                foreach (var choice in choices.EnumerateArray())
                    if (choice.GetProperty("finish_reason").ValueKind != JsonValueKind.String) return $"a choice without a finish_reason: {body}";
                root.GetProperty("usage").GetProperty("total_tokens").GetInt32();
            }
            else if (path.StartsWith("/v2/", StringComparison.Ordinal)) root.GetProperty("text_output").GetString();
            else if (path.StartsWith("/tokenize", StringComparison.Ordinal))
            {
                if (root.GetProperty("count").GetInt32() != root.GetProperty("tokens").GetArrayLength()) return $"count is not the number of tokens: {body}";
            }
            else if (path.StartsWith("/detokenize", StringComparison.Ordinal)) root.GetProperty("prompt").GetString();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return $"200 with a malformed body ({e.Message}): {body}";
        }
        return null;
    }

    /// <summary>
    /// A 200 server-sent-event stream read to its end: every event JSON (or the final [DONE]); OpenAI's end with [DONE] after every
    /// choice got its finish_reason; Triton's carry text_output and never an error.
    /// </summary>
    public static string? CheckStream(string path, IReadOnlyList<string> events)
    {
        if (path.StartsWith("/v1/responses", StringComparison.Ordinal)) return CheckResponsesStream(events);
        bool openAi = path.StartsWith("/v1/", StringComparison.Ordinal);
        var seen = new HashSet<int>();
        var finished = new HashSet<int>();
        for (int k = 0; k < events.Count; k++)
        {
            var data = events[k];
            if (data == "[DONE]")
            {
                if (!openAi) return "a Triton stream sent [DONE]";
                if (k != events.Count - 1) return $"events after [DONE]: {string.Join(" | ", events.Skip(k))}";
                if (!seen.SetEquals(finished)) return $"[DONE] before every choice finished (seen {string.Join(",", seen)}, finished {string.Join(",", finished)})";
                return null;
            }
            try
            {
                using var doc = JsonDocument.Parse(data);
                var root = doc.RootElement;
                if (root.TryGetProperty("error", out _)) return $"an error event in a 200 stream: {data}";
                if (!openAi)
                {
                    root.GetProperty("text_output").GetString();
                    continue;
                }
                foreach (var choice in root.GetProperty("choices").EnumerateArray())
                {
                    int index = choice.GetProperty("index").GetInt32();
                    seen.Add(index);
                    if (choice.GetProperty("finish_reason").ValueKind == JsonValueKind.String && !finished.Add(index))
                        return $"choice {index} finished twice: {data}";
                }
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                return $"a malformed event ({e.Message}): {data}";
            }
        }
        return openAi ? $"the stream ended without [DONE] after {events.Count} events" : null;
    }

    /// <summary>
    /// A Responses stream: typed events numbered 0, 1, …, response.created first, and last a response.completed or
    /// response.incomplete whose response has that status; no [DONE].
    /// </summary>
    private static string? CheckResponsesStream(IReadOnlyList<string> events)
    {
        string? type = null;
        for (int k = 0; k < events.Count; k++)
        {
            try
            {
                using var doc = JsonDocument.Parse(events[k]);
                var root = doc.RootElement;
                type = root.GetProperty("type").GetString();
                if (root.GetProperty("sequence_number").GetInt32() != k) return $"event {k} is numbered {root.GetProperty("sequence_number")}: {events[k]}";
                if (k == 0 && type != "response.created") return $"the stream began with {type}";
                if (type is "response.completed" or "response.incomplete")
                {
                    if (k != events.Count - 1) return $"events after {type}";
                    var status = root.GetProperty("response").GetProperty("status").GetString();
                    if (type != "response." + status) return $"{type} with status {status}";
                }
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                return $"a malformed event ({e.Message}): {events[k]}";
            }
        }
        return type is "response.completed" or "response.incomplete" ? null : $"the stream ended with {type ?? "nothing"}";
    }
}
