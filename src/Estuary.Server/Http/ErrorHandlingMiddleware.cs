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
            await DescribeRoutingFailureAsync(context);
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

    /// <summary>Routing's bare 404 (no such API) and 405 (wrong method) get a body in the path's error shape, like every other error.</summary>
    private static Task DescribeRoutingFailureAsync(HttpContext context)
    {
        var response = context.Response;
        if (response.HasStarted || response.ContentLength is > 0) return Task.CompletedTask;
        var request = context.Request;
        string allow = response.Headers.Allow.ToString();
        if (allow.Length > 0)
        {
            // ErrorResponses clears the headers; routing's Allow list must survive it.
            response.OnStarting(() =>
            {
                response.Headers.Allow = allow;
                return Task.CompletedTask;
            });
        }
        return response.StatusCode switch
        {
            StatusCodes.Status404NotFound => ErrorResponses.WriteAsync(context, 404, $"no API at {request.Method} {request.Path}", null),
            StatusCodes.Status405MethodNotAllowed => ErrorResponses.WriteAsync(context, 405,
                $"{request.Method} is not allowed on {request.Path} (allowed: {allow})", null),
            _ => Task.CompletedTask,
        };
    }
}
