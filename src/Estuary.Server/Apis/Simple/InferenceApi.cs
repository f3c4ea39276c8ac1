// POST /inference: a conversation in, the assistant's reply out as text/plain (whole, or chunked deltas with ?streaming=true).
// The model's chat format and generation_config.json defaults apply. Invariant: the client's disconnect aborts the request.
using Estuary.Server.Apis.Shared;
using Estuary.Server.Generation;
using Estuary.Server.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Estuary.Server.Apis.Simple;

internal static class InferenceApi
{
    private const string TextPlain = "text/plain; charset=utf-8";

    public static IEndpointRouteBuilder MapInferenceApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/inference", Infer);
        return app;
    }

    private static async Task<IResult> Infer(HttpContext context, ServedModel model)
    {
        var ct = context.RequestAborted;
        bool streaming = ParseStreaming(context.Request.Query["streaming"].ToString());
        var request = await JsonBody.ReadAsync<InferenceRequest>(context.Request, ct);
        var lora = model.ResolveLora(request.Model);
        var messages = ChatMessageDto.ToMessages(request.Messages, "messages");
        if (request.MaxTokens is <= 0) throw RequestException.BadRequest($"max_tokens must be at least 1 (got {request.MaxTokens})", "max_tokens");
        var sampling = model.Core.DefaultSamplingParams(request.MaxTokens) with { LoraName = lora, IgnoreEos = request.IgnoreEos ?? false };
        var promptIds = model.BuildChatPrompt(messages, sampling.MaxTokens ?? 0, "messages");
        using var admission = model.Admit(1, ct);
        var stream = model.Start(promptIds, sampling, "messages", admission.Token);
        if (!streaming)
        {
            var text = new System.Text.StringBuilder();
            await foreach (var output in stream) text.Append(output.NewText);
            return TypedResults.Text(text.ToString(), TextPlain);
        }
        context.Response.ContentType = TextPlain;
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.StartAsync(ct);
        await foreach (var output in stream) await SseWriter.WriteTextAsync(context.Response, output.NewText, ct);
        return TypedResults.Empty;
    }

    private static bool ParseStreaming(string value) => value.ToLowerInvariant() switch
    {
        "" or "false" or "0" => false,
        "true" or "1" => true,
        _ => throw RequestException.BadRequest($"'streaming' must be true or false (got '{value}')", "streaming"),
    };
}
