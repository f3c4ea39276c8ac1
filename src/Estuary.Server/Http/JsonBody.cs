// Reads a request body as a DTO; malformed JSON, wrong types and oversized bodies become RequestExceptions naming the field.
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
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, ApiJson.Options, cancellationToken);
            return value ?? throw RequestException.BadRequest("the request body must be a JSON object");
        }
        catch (JsonException e)
        {
            var field = FieldOf(e.Path);
            if (field is null) throw RequestException.BadRequest($"the request body is not valid JSON: {FirstSentence(e.Message)}");
            throw RequestException.BadRequest($"'{field}' has the wrong type or is malformed: {FirstSentence(e.Message)}", field);
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

    // System.Text.Json appends "Path: … | LineNumber: …"; the field is already named, so keep the first sentence only.
    private static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
