// Bearer-key check for /v1, /v2, /inference, /tokenize and /detokenize (health, /ping, metrics and version stay open), answering 401 in each API family's error shape.
// Invariant: keys are compared in constant time; a request without the exact key never reaches an endpoint.
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Estuary.Server.Http;

internal sealed class ApiKeyMiddleware(RequestDelegate next, string apiKey)
{
    private readonly byte[] _expected = Encoding.UTF8.GetBytes("Bearer " + apiKey);

    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        bool guarded = (path.StartsWithSegments("/v1") || path.StartsWithSegments("/v2") || path.StartsWithSegments("/inference")
                || path.StartsWithSegments("/tokenize") || path.StartsWithSegments("/detokenize"))
            && !path.StartsWithSegments("/v2/health");
        if (!guarded || Matches(context.Request.Headers.Authorization.ToString()))
        {
            await next(context);
            return;
        }
        var message = context.Request.Headers.Authorization.Count == 0
            ? "missing API key: send 'Authorization: Bearer <key>'"
            : "incorrect API key";
        await ErrorResponses.WriteAsync(context, StatusCodes.Status401Unauthorized, message, null, "invalid_api_key");
    }

    private bool Matches(string header) => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header), _expected);
}
