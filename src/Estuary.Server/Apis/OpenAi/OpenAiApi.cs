// OpenAI-compatible /v1 endpoints (placeholder until stage 2).
using Microsoft.AspNetCore.Routing;

namespace Estuary.Server.Apis.OpenAi;

internal static class OpenAiApi
{
    public static IEndpointRouteBuilder MapOpenAiApi(this IEndpointRouteBuilder app) => app;
}
