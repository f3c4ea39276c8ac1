// JSON settings of every API family: snake_case names, strict number handling, unknown fields ignored.
// Invariant: the options are frozen after first use, so sharing them across requests is safe.
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Estuary.Server.Http;

internal static class ApiJson
{
    /// <summary>Requests and OpenAI responses (nulls written, as OpenAI does).</summary>
    public static JsonSerializerOptions Options { get; } = Create(JsonIgnoreCondition.Never);

    /// <summary>Triton responses, which leave absent outputs out.</summary>
    public static JsonSerializerOptions OmitNull { get; } = Create(JsonIgnoreCondition.WhenWritingNull);

    private static JsonSerializerOptions Create(JsonIgnoreCondition ignore)
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = ignore,
            NumberHandling = JsonNumberHandling.Strict,
            // Chinese and other text go out as UTF-8, not \uXXXX escapes, as OpenAI's and Triton's servers do.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            MaxDepth = 32,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
