// vLLM's utility endpoints: POST /tokenize (a prompt, or a conversation with its tools in the model's chat format, to token ids) and POST
// /detokenize (ids to text), so clients can count and check tokens exactly as the engine will see them, and GET /version.
// Invariant: nothing is queued on the engine; errors are OpenAI-shaped 400s naming the field.
using System.Text.Json;
using Estuary.Server.Apis.OpenAi;
using Estuary.Server.Apis.Shared;
using Estuary.Server.Generation;
using Estuary.Server.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Estuary.Server.Apis.Tokenize;

internal static class TokenizeApi
{
    public static IEndpointRouteBuilder MapTokenizeApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/tokenize", Tokenize);
        app.MapPost("/detokenize", Detokenize);
        app.MapGet("/version", () => TypedResults.Json(new VersionInfo(ServerVersion.Value), ApiJson.Options));
        return app;
    }

    private static async Task<IResult> Tokenize(HttpContext context, ServedModel model)
    {
        var r = await JsonBody.ReadAsync<TokenizeRequest>(context.Request, context.RequestAborted);
        model.CheckModel(r.Model);
        int[] ids;
        if (r.Messages is not null)
        {
            if (r.Prompt is not null) throw RequestException.BadRequest("give either 'prompt' or 'messages', not both", "prompt");
            if (r.AddSpecialTokens == true)
                throw RequestException.BadRequest("add_special_tokens applies to 'prompt' only: the chat format places its own special tokens", "add_special_tokens");
            // The prompt a chat request with default max_tokens gets (formats that trim history leave room for that many tokens).
            var messages = ChatMessageDto.ToMessages(r.Messages, "messages");
            ids = model.BuildChatPrompt(messages, model.Core.DefaultSamplingParams(null).MaxTokens ?? 0, "messages",
                r.AddGenerationPrompt, r.ContinueFinalMessage, OpenAiTools.ToolsJson(r.Tools), templateKwargsJson: ServedModel.TemplateKwargsJson(r.ChatTemplateKwargs));
        }
        else
        {
            if (r.Prompt is null) throw RequestException.BadRequest("'prompt' or 'messages' is required", "prompt");
            if (OpenAiTools.ToolsJson(r.Tools) is not null)
                throw RequestException.BadRequest("'tools' applies to 'messages' only: a plain prompt has no chat format to show them in", "tools");
            ids = model.Tokenizer.Encode(r.Prompt, r.AddSpecialTokens ?? true);
        }
        string[]? pieces = r.ReturnTokenStrs == true ? [.. ids.Select(model.Tokenizer.IdToPiece)] : null;
        return TypedResults.Json(new TokenizeResponse(ids.Length, model.MaxModelLen, ids, pieces), ApiJson.Options);
    }

    private static async Task<IResult> Detokenize(HttpContext context, ServedModel model)
    {
        var r = await JsonBody.ReadAsync<DetokenizeRequest>(context.Request, context.RequestAborted);
        model.CheckModel(r.Model);
        if (r.Tokens is null) throw RequestException.BadRequest("'tokens' is required", "tokens");
        for (int i = 0; i < r.Tokens.Count; i++)
            if ((uint)r.Tokens[i] >= (uint)model.Tokenizer.VocabSize)
                throw RequestException.BadRequest($"'tokens[{i}]' is {r.Tokens[i]}, outside the tokenizer's vocabulary [0, {model.Tokenizer.VocabSize})", "tokens");
        // As vLLM does (the tokenizer's decode): special tokens are kept in the text.
        return TypedResults.Json(new DetokenizeResponse(model.Tokenizer.Decode(r.Tokens.ToArray(), skipSpecialTokens: false)), ApiJson.Options);
    }

    private sealed class TokenizeRequest
    {
        public string? Model { get; init; }
        public string? Prompt { get; init; }
        public List<ChatMessageDto?>? Messages { get; init; }
        public JsonElement? Tools { get; init; }
        public JsonElement? ChatTemplateKwargs { get; init; }
        public bool? AddSpecialTokens { get; init; }
        public bool? AddGenerationPrompt { get; init; }
        public bool? ContinueFinalMessage { get; init; }
        public bool? ReturnTokenStrs { get; init; }
    }

    private sealed class DetokenizeRequest
    {
        public string? Model { get; init; }
        public List<int>? Tokens { get; init; }
    }

    private sealed record TokenizeResponse(int Count, int MaxModelLen, int[] Tokens, string[]? TokenStrs);

    private sealed record DetokenizeResponse(string Prompt);

    private sealed record VersionInfo(string Version);
}
