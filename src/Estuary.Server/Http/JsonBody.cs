// Reads a request body as a DTO; malformed JSON, wrong types, oversized bodies, and (anywhere in the body, JsonBodyScan) strings
// that are not Unicode and members given twice become RequestExceptions naming the field.
// Invariant: never throws anything but RequestException or OperationCanceledException for client input.
using System.Text.Json;
using Estuary.Server.Generation;
using Microsoft.AspNetCore.Http;

namespace Estuary.Server.Http;

internal static class JsonBody
{
    public static async Task<T> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken) where T : class
    {
        try
        {
            // Read whole (the body limit applies while reading): the bytes are checked for bad strings once they parsed.
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, cancellationToken);
            var bytes = new ReadOnlySpan<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
            var value = JsonSerializer.Deserialize<T>(bytes, ApiJson.Options)
                ?? throw RequestException.BadRequest("the request body must be a JSON object");
            // Fields kept as raw JSON (schemas, tools, logit_bias) are read later: a string there that is not text, or a member
            // given twice, is named now.
            if (JsonBodyScan.Find(bytes, ApiJson.Options.MaxDepth) is { } problem)
                throw RequestException.BadRequest(problem.Message, problem.Path == "$" ? null : problem.Path);
            return value;
        }
        catch (JsonException e)
        {
            var field = FieldOf(e.Path);
            // A JSON value of another kind than an object (a number, a string, an array) where the body's object belongs.
            if (field is null && e.Message.Contains("could not be converted to ", StringComparison.Ordinal))
                throw RequestException.BadRequest("the request body must be a JSON object");
            if (field is null) throw RequestException.BadRequest($"the request body is not valid JSON: {Describe(e.Message)}");
            // A string, but not valid Unicode: System.Text.Json says "Cannot transcode invalid UTF-8 …" / "… incomplete UTF-16 …".
            if (e.InnerException is System.Text.DecoderFallbackException
                || e.InnerException is InvalidOperationException inner && inner.Message.Contains("UTF-", StringComparison.Ordinal))
                throw RequestException.BadRequest(JsonText.NotText(field), field);
            throw RequestException.BadRequest(WrongValue(field, e.Message), field);
        }
        catch (BadHttpRequestException e)
        {
            throw new RequestException(e.StatusCode, e.StatusCode == StatusCodes.Status413PayloadTooLarge
                ? "the request body is too large" : "the request body could not be read: " + e.Message);
        }
        catch (InvalidOperationException e)
        {
            // e.g. a number that does not fit the field's type
            throw RequestException.BadRequest("the request body has a malformed value: " + e.Message);
        }
    }

    /// <summary>"$.messages[0].content" → "messages[0].content"; "$" or nothing → null (the body itself is bad).</summary>
    private static string? FieldOf(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$") return null;
        var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        return field.Length == 0 ? null : field;
    }

    /// <summary>
    /// The message for a value of the wrong JSON kind at <paramref name="field"/>: "'max_tokens' must be an integer" rather than
    /// System.Text.Json's "could not be converted to System.Nullable`1[System.Int32]"; anything else keeps its first sentence.
    /// </summary>
    internal static string WrongValue(string field, string jsonMessage)
    {
        const string marker = "could not be converted to ";
        int at = jsonMessage.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0) return $"'{field}' has the wrong type or is malformed: {Describe(jsonMessage)}";
        var kind = KindOf(Describe(jsonMessage)[(at + marker.Length)..].TrimEnd('.'));
        return kind is null ? $"'{field}' has the wrong type or is malformed: {Describe(jsonMessage)}" : $"'{field}' must be {kind}";
    }

    /// <summary>The JSON kind a .NET type name reads from ("System.Collections.Generic.List`1[…]" → "an array"); null if unknown.</summary>
    private static string? KindOf(string type)
    {
        const string nullable = "System.Nullable`1[";
        if (type.StartsWith(nullable, StringComparison.Ordinal)) type = type[nullable.Length..^1];
        if (type.EndsWith("[]", StringComparison.Ordinal) || type.Contains("List`1", StringComparison.Ordinal)
            || type.Contains("Enumerable`1", StringComparison.Ordinal)) return "an array";
        if (type.Contains("Dictionary`2", StringComparison.Ordinal)) return "an object";
        return type switch
        {
            "System.String" => "a string",
            "System.Boolean" => "true or false",
            "System.Byte" or "System.Int16" or "System.Int32" or "System.Int64" or "System.UInt32" or "System.UInt64" => "an integer",
            "System.Single" or "System.Double" or "System.Decimal" => "a number",
            _ when type.StartsWith("Estuary.", StringComparison.Ordinal) => "an object", // the request DTOs
            _ => null,
        };
    }

    /// <summary>
    /// A System.Text.Json message for a client: what follows " Path:" or " LineNumber:" is dropped (the field is named by the caller),
    /// and so is advice meant for the server's programmer ("Change the reader options.", "when isFinalBlock is true").
    /// </summary>
    internal static string Describe(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut < 0) cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        var first = cut > 0 ? message[..cut] : message;
        return first.Replace(" which is not supported in this mode. Change the reader options.", ".", StringComparison.Ordinal)
            .Replace(", when isFinalBlock is true.", ".", StringComparison.Ordinal);
    }
}
