// Triton /v2 endpoints (placeholder until stage 3).
using Microsoft.AspNetCore.Routing;

namespace Estuary.Server.Apis.Triton;

internal static class TritonApi
{
    public static IEndpointRouteBuilder MapTritonApi(this IEndpointRouteBuilder app) => app;
}
