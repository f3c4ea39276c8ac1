// OpenAI's Responses API as vLLM serves it: POST /v1/responses (whole, or as named server-sent events), and with the store
// on (--enable-responses-api-store) GET and DELETE /v1/responses/{id} and previous_response_id. A response is one chat
// reply: the input items and instructions are the conversation, the tools, text.format and sampling fields are the chat
// request's, and its reasoning (with a reasoning parser), text and function calls are the output items.
// Invariant: the reply is generated, split and read exactly as /v1/chat/completions does (ChatReplyStreamer, ChatReply);
// a client that disconnects aborts it.
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Estuary.Engine;
using Estuary.Engine.Reasoning;
using Estuary.Server.Apis.OpenAi;
using Estuary.Server.Generation;
using Estuary.Server.Http;
using Estuary.Tokenization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Estuary.Server.Apis.Responses;

internal static class ResponsesApi
{
    public static IEndpointRouteBuilder MapResponsesApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/responses", Create);
        app.MapGet("/v1/responses/{id}", (string id, ServedModel model) =>
            TypedResults.Json(Stored(model, id, "response_id").Response, ApiJson.Options));
        app.MapGet("/v1/responses/{id}/input_items", (string id, int? limit, string? order, string? after, ServedModel model) =>
            TypedResults.Json(InputItems(Stored(model, id, "response_id").InputItems, limit, order, after), ApiJson.Options));
        app.MapDelete("/v1/responses/{id}", (string id, ServedModel model) =>
        {
            Stored(model, id, "response_id");
            model.Responses!.Remove(id);
            return TypedResults.Json(new { Id = id, Object = "response", Deleted = true }, ApiJson.Options);
        });
        return app;
    }

    private static StoredResponse Stored(ServedModel model, string id, string field)
    {
        if (model.Responses is not { } store)
            throw RequestException.BadRequest("responses are not stored on this server (start it with --enable-responses-api-store)", field);
        return store.Get(id) ?? throw new RequestException(404,
            $"no stored response has the id '{id}' (responses are kept in memory, the latest {store.Capacity})", field, "not_found");
    }

    // OpenAI's list of a response's input items: newest first unless order=asc, at most limit (1–100, 20), after an item id.
    private static object InputItems(IReadOnlyList<JsonObject> items, int? limit, string? order, string? after)
    {
        if (limit is < 1 or > 100) throw RequestException.BadRequest($"'limit' must be in [1, 100] (got {limit})", "limit");
        var ordered = order switch
        {
            null or "desc" => items.Reverse().ToList(),
            "asc" => items.ToList(),
            _ => throw RequestException.BadRequest($"'order' must be asc or desc (got '{order}')", "order"),
        };
        int start = 0;
        if (after is not null)
        {
            start = ordered.FindIndex(i => (string?)i["id"] == after) + 1;
            if (start == 0) throw RequestException.BadRequest($"'after' names no input item of this response ('{after}')", "after");
        }
        var page = ordered.Skip(start).Take(limit ?? 20).Select(i => i.DeepClone()).ToList();
        return new
        {
            Object = "list",
            Data = page,
            FirstId = page.Count > 0 ? (string?)page[0]!["id"] : null,
            LastId = page.Count > 0 ? (string?)page[^1]!["id"] : null,
            HasMore = start + page.Count < ordered.Count,
        };
    }

    private static async Task<IResult> Create(HttpContext context, ServedModel model)
    {
        var ct = context.RequestAborted;
        var r = await JsonBody.ReadAsync<ResponsesRequest>(context.Request, ct);
        var lora = model.ResolveLora(r.Model);
        RefuseUnsupported(r);

        // The conversation: the stored one this response continues, then the input; the instructions go first, unstored.
        var history = new List<ChatMessage>();
        if (r.PreviousResponseId is { } previous) history.AddRange(Stored(model, previous, "previous_response_id").Conversation);
        history.AddRange(ResponseInput.ToMessages(r.Input));
        var inputItems = ResponseInput.Items(r.Input); // after ToMessages validated them
        if (history.Count == 0) throw RequestException.BadRequest("'input' is required (a string or a list of items)", "input");
        var messages = WithInstructions(history, r.Instructions);

        var tools = ReadTools(r, model);
        var sampling = OpenAiSampling.Build(model, r, r.MaxOutputTokens, null, tools) with { LoraName = lora };
        if (tools is { ModelFormatAuto: true }) sampling = sampling with { SkipSpecialTokens = false };
        bool singleCall = tools is not null && Estuary.Engine.Tools.ToolCalls.AllowsSingleCall(tools.Mode, sampling.StructuredOutput);
        var templateKwargs = ServedModel.TemplateKwargsJson(r.ChatTemplateKwargs);
        int? keepPromptTokens = PromptTruncation.KeepCount(model, r.TruncatePromptTokens);
        var promptIds = PromptTruncation.Apply(
            model.BuildChatPrompt(messages, sampling.MaxTokens ?? 0, "input", null, null, tools?.ToolsJson, null, templateKwargs), keepPromptTokens);
        bool? startsInReasoning = null;
        if (model.Reasoning is { } reasoning) (sampling, startsInReasoning) = reasoning.Prepare(sampling, promptIds, templateKwargs);
        OpenAiSampling.CheckContext(model, promptIds.Length, r.MaxOutputTokens, "max_output_tokens");
        using var admission = model.Admit(1, ct);
        var stream = model.Start(promptIds, sampling, "input", admission.Token);

        var shell = new ResponseShell(r, sampling, model.Name, promptIds.Length, model.Responses is not null && r.Store != false);
        var reasoningTokens = model.Reasoning?.TokenCounter(startsInReasoning == true) ?? new ReasoningTokenCounter(null);
        RequestOutput? last = null;
        if (r.Stream != true)
        {
            var text = new StringBuilder();
            await foreach (var o in stream.WithCancellation(ct))
            {
                text.Append(o.NewText);
                reasoningTokens.Add(o.NewTokenIds);
                last = o;
            }
            var (message, reason) = ChatReply.Read(tools, singleCall, text.ToString(), ServedModel.ReasonName(last?.FinishReason), startsInReasoning, includeReasoning: true);
            var response = shell.Finish(reason, Items(message, reason), last, reasoningTokens.Count);
            Keep(model, shell, response, history, inputItems);
            return TypedResults.Json(response, ApiJson.Options);
        }

        var sse = new SseWriter(context.Response);
        var events = new ResponseEventStream(sse, ct);
        var inProgress = shell.InProgress();
        await events.WriteAsync("response.created", new System.Text.Json.Nodes.JsonObject { ["response"] = ResponseEventStream.Node(inProgress) });
        await events.WriteAsync("response.in_progress", new System.Text.Json.Nodes.JsonObject { ["response"] = ResponseEventStream.Node(inProgress) });
        var reply = new ChatReplyStreamer(tools, singleCall, startsInReasoning, includeReasoning: true);
        string finish = "abort";
        await foreach (var o in stream.WithCancellation(ct))
        {
            reasoningTokens.Add(o.NewTokenIds);
            last = o;
            var (delta, reason) = reply.Add(o, mustSend: false);
            if (reason is not null) finish = reason;
            if (delta is not null) await events.AddAsync(delta);
        }
        await events.CloseAsync(ResponseShell.Status(finish));
        var final = shell.Finish(finish, events.Items, last, reasoningTokens.Count);
        Keep(model, shell, final, history, inputItems);
        await events.WriteAsync(final.Status == "completed" ? "response.completed" : "response.incomplete",
            new System.Text.Json.Nodes.JsonObject { ["response"] = ResponseEventStream.Node(final) });
        return TypedResults.Empty;
    }

    // The tools, read as chat completions' are; errors name the Responses shape's fields (tools[0].name, not .function.name).
    private static ToolPlan? ReadTools(ResponsesRequest r, ServedModel model)
    {
        try
        {
            return OpenAiTools.Read(ResponseInput.ChatTools(r.Tools), ResponseInput.ChatToolChoice(r.ToolChoice), r.ParallelToolCalls, model.ToolCallParser)
                is { } plan ? plan with { IdStyle = model.ToolCallIdStyle } : null;
        }
        catch (RequestException e) when (e.Message.Contains(".function.", StringComparison.Ordinal) || e.Message.Contains("'tool_choice'", StringComparison.Ordinal))
        {
            var message = e.Message.Replace(".function.", ".", StringComparison.Ordinal)
                .Replace("{\"type\": \"function\", \"function\": {\"name\": …}}", "{\"type\": \"function\", \"name\": …}", StringComparison.Ordinal);
            throw new RequestException(e.Status, message, e.Param, e.Code);
        }
    }

    // Fields that would change the answer if honoured, and OpenAI or chat-completions fields that do not belong here.
    private static void RefuseUnsupported(ResponsesRequest r)
    {
        if (r.Background == true) throw RequestException.BadRequest("'background' responses are not supported; stream, or wait for the response", "background");
        if (r.Truncation is not (null or "disabled"))
            throw RequestException.BadRequest($"'truncation' '{r.Truncation}' is not supported (only disabled: a conversation too long for the context is a 400)", "truncation");
        if (r.TopLogprobs is not null) throw RequestException.BadRequest("'top_logprobs' is not supported on /v1/responses (use /v1/chat/completions)", "top_logprobs");
        if (r.N is not (null or 1)) throw RequestException.BadRequest("'n' is not a Responses field: a response has one reply", "n");
        if (r.MaxTokens is not null) throw RequestException.BadRequest("'max_tokens' is not a Responses field; use 'max_output_tokens'", "max_tokens");
        if (r.PromptLogprobs is not null) throw RequestException.BadRequest("'prompt_logprobs' is not available on /v1/responses (use /v1/completions or /v1/chat/completions)", "prompt_logprobs");
    }

    // The instructions as the system turn: before the conversation's own system turn, joined by a blank line.
    private static List<ChatMessage> WithInstructions(List<ChatMessage> history, string? instructions)
    {
        if (string.IsNullOrEmpty(instructions)) return history;
        var messages = new List<ChatMessage>(history);
        if (messages[0].Role == ChatRoles.System) messages[0] = messages[0] with { Content = instructions + "\n\n" + messages[0].Content };
        else messages.Insert(0, new ChatMessage(ChatRoles.System, instructions));
        return messages;
    }

    // The output items of a whole reply: its reasoning, its text, its calls.
    private static List<object> Items(ChatMessageOut message, string reason)
    {
        var status = ResponseShell.Status(reason);
        var items = new List<object>();
        if (message.Reasoning is { } reasoning) items.Add(new ReasoningItem(ResponseIds.New("rs"), status, [new ReasoningTextPart(reasoning)]));
        if (message.Content is { } content) items.Add(new ResponseMessageItem(ResponseIds.New("msg"), status, [new OutputTextPart(content)]));
        foreach (var call in message.ToolCalls ?? [])
            items.Add(new FunctionCallItem(ResponseIds.New("fc"), call.Id, call.Function.Name, call.Function.Arguments, status));
        return items;
    }

    // Stores the response and its conversation (history, then its output items as one assistant turn) when the store is on
    // and the request did not say store false.
    private static void Keep(ServedModel model, ResponseShell shell, ResponseObject response, List<ChatMessage> history, IReadOnlyList<JsonObject> inputItems)
    {
        if (!shell.Store) return;
        string? reasoning = null;
        var content = new StringBuilder();
        var calls = new List<ChatToolCall>();
        foreach (var item in response.Output)
        {
            switch (item)
            {
                case ReasoningItem r:
                    reasoning = string.Concat(r.Content.Select(p => p.Text));
                    break;
                case ResponseMessageItem m:
                    content.Append(string.Concat(m.Content.Select(p => p.Text)));
                    break;
                case FunctionCallItem f:
                    calls.Add(new ChatToolCall(f.CallId, f.Name, f.Arguments));
                    break;
            }
        }
        var turn = new ChatMessage(ChatRoles.Assistant, content.ToString()) { ToolCalls = calls.Count > 0 ? calls : null, Reasoning = reasoning };
        model.Responses!.Add(new StoredResponse(response, [.. history, turn], inputItems));
    }
}
