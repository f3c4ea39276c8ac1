// GET /health: 200 once the engine is loaded (the server only starts after that); open even when an API key is set.
using Estuary.Server.Generation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Estuary.Server.Apis;

internal static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health", (ServedModel model) => TypedResults.Json(new HealthStatus("ok", model.Name), Http.ApiJson.Options));
        return app;
    }

    private sealed record HealthStatus(string Status, string Model);
}
