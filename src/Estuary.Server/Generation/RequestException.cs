// A client error found while reading or validating a request: the HTTP status, a message naming the field, and the field.
// Invariant: Status is a 4xx/5xx code the API families translate into their own error shapes.
using Microsoft.AspNetCore.Http;

namespace Estuary.Server.Generation;

internal sealed class RequestException(int status, string message, string? param = null, string? code = null) : Exception(message)
{
    public int Status { get; } = status;
    public string? Param { get; } = param;
    public string? Code { get; } = code;

    public static RequestException BadRequest(string message, string? param = null) => new(StatusCodes.Status400BadRequest, message, param);

    /// <summary>Engine validation messages start with the field they are about ("top_p must be …"); that word is the param.</summary>
    public static RequestException FromValidation(IReadOnlyList<string> errors, string promptField)
    {
        var first = errors[0];
        int end = 0;
        while (end < first.Length && (char.IsAsciiLetterLower(first[end]) || first[end] == '_')) end++;
        var field = first[..end] switch
        {
            "prompt" or "request" => promptField,
            "" => null,
            var name => name,
        };
        return BadRequest(string.Join("; ", errors), field);
    }
}
