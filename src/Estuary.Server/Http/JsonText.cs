// Reads a JSON string element of a request as text; a string that is not valid Unicode is the client's error, not the server's.
// Invariant: throws only RequestException (400, naming the field) for input that System.Text.Json cannot turn into a .NET string.
using System.Text.Json;
using Estuary.Server.Generation;

namespace Estuary.Server.Http;

internal static class JsonText
{
    /// <summary>The message for a JSON string holding invalid UTF-8 bytes or an unpaired \ud800–\udfff escape.</summary>
    public static string NotText(string field) =>
        $"'{field}' is not valid text: it holds invalid UTF-8 or an unpaired UTF-16 surrogate escape";

    /// <summary>The string value of <paramref name="element"/> (a JSON string), or a 400 naming <paramref name="field"/>.</summary>
    public static string Read(JsonElement element, string field)
    {
        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            // GetString transcodes lazily: bad UTF-8 bytes or a lone surrogate escape surface only here.
            throw RequestException.BadRequest(NotText(field), field);
        }
    }
}
