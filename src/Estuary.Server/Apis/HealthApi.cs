// GET or HEAD /health, and /ping (GET, HEAD or POST: SageMaker's probe, which vLLM serves): 200 once the engine is loaded
// (the server only starts after that); open even when an API key is set.
// HEAD is answered too because load balancers and uptime probes often send it (Kestrel drops the body).
using Estuary.Server.Generation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Estuary.Server.Apis;

internal static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/health", Probe, Healthy);
        app.MapMethods("/ping", [.. Probe, HttpMethods.Post], Healthy);
        return app;
    }

    /// <summary>The methods a probe may use.</summary>
    internal static readonly string[] Probe = [HttpMethods.Get, HttpMethods.Head];

    private static IResult Healthy(ServedModel model) => TypedResults.Json(new HealthStatus("ok", model.Name), Http.ApiJson.Options);

    private sealed record HealthStatus(string Status, string Model);
}
