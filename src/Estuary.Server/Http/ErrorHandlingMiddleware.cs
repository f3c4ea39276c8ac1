// Last line of defence: a RequestException becomes its 4xx/503 in the path's error shape, anything else a 500;
// a client that went away is not an error. Invariant: no exception from an endpoint reaches Kestrel.
using Estuary.Server.Generation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Estuary.Server.Http;

internal sealed class ErrorHandlingMiddleware(RequestDelegate next, ILogger<ErrorHandlingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (RequestException e)
        {
            await ErrorResponses.WriteAsync(context, e);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client disconnected; its engine request was aborted by the cancelled stream.
        }
        catch (BadHttpRequestException e)
        {
            await ErrorResponses.WriteAsync(context, e.StatusCode, "bad request: " + e.Message, null);
        }
        catch (Exception e)
        {
            logger.LogError(e, "request {Path} failed", context.Request.Path);
            if (context.Response.HasStarted)
            {
                context.Abort();
                return;
            }
            await ErrorResponses.WriteAsync(context, StatusCodes.Status500InternalServerError, "internal error: " + e.Message, null);
        }
    }
}
