// The OpenAI-compatible API: GET /v1/models, POST /v1/chat/completions and /v1/completions, whole or as SSE chunks ending in
// "data: [DONE]". Invariant: n choices are n engine requests (seed+i when seeded) sharing the prompt's cached blocks, and a
// client that disconnects aborts all of them.
using System.Text;
using Estuary.Engine;
using Estuary.Engine.Sampling;
using Estuary.Engine.Reasoning;
using Estuary.Engine.Tools;
using Estuary.Server.Apis.Shared;
using Estuary.Server.Generation;
using Estuary.Server.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Estuary.Server.Apis.OpenAi;

internal static class OpenAiApi
{
    private static readonly long s_started = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public static IEndpointRouteBuilder MapOpenAiApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", (ServedModel model) => TypedResults.Json(new ModelList([Card(model), .. model.Adapters.Select(a => Card(model, a))]), ApiJson.Options));
        app.MapGet("/v1/models/{id}", (string id, ServedModel model) =>
        {
            var adapter = model.ResolveLora(id);
            return TypedResults.Json(adapter is null ? Card(model) : Card(model, adapter), ApiJson.Options);
        });
        app.MapPost("/v1/chat/completions", ChatCompletions);
        app.MapPost("/v1/completions", Completions);
        return app;
    }

    private static ModelCard Card(ServedModel model, string? adapter = null) => new(adapter ?? model.Name, s_started, model.MaxModelLen);

    private static async Task<IResult> ChatCompletions(HttpContext context, ServedModel model)
    {
        var ct = context.RequestAborted;
        var r = await JsonBody.ReadAsync<ChatCompletionRequest>(context.Request, ct);
        var lora = model.ResolveLora(r.Model);
        var messages = ChatMessageDto.ToMessages(r.Messages, "messages");
        if (r.TopLogprobs is not null && r.Logprobs != true)
            throw RequestException.BadRequest("top_logprobs requires logprobs to be true", "top_logprobs");
        if (r.TopLogprobs < 0 || r.TopLogprobs > model.Core.MaxLogprobs)
            throw RequestException.BadRequest(
                $"top_logprobs must be in [0, {model.Core.MaxLogprobs}] (got {r.TopLogprobs}; the server's max_logprobs is {model.Core.MaxLogprobs})", "top_logprobs");
        var maxField = r.MaxCompletionTokens is not null ? "max_completion_tokens" : "max_tokens";
        var maxTokens = r.MaxCompletionTokens ?? r.MaxTokens;
        var tools = OpenAiTools.Read(r, model.ToolCallParser) is { } plan ? plan with { IdStyle = model.ToolCallIdStyle } : null;
        var sampling = OpenAiSampling.Build(model, r, maxTokens, r.Logprobs == true ? r.TopLogprobs ?? 0 : null, tools) with { LoraName = lora };
        // The parsers' tags (<tool_call>, [TOOL_CALLS], <|python_tag|>) may be special tokens: they must stay in the text to be read (as vLLM does).
        if (tools is { ModelFormatAuto: true }) sampling = sampling with { SkipSpecialTokens = false };
        bool singleCall = tools is not null && ToolCalls.AllowsSingleCall(tools.Mode, sampling.StructuredOutput);
        var templateKwargs = ServedModel.TemplateKwargsJson(r.ChatTemplateKwargs);
        int? keepPromptTokens = PromptTruncation.KeepCount(model, r.TruncatePromptTokens);
        var promptIds = PromptTruncation.Apply(model.BuildChatPrompt(messages, sampling.MaxTokens ?? 0, "messages", r.AddGenerationPrompt,
            r.ContinueFinalMessage, tools?.ToolsJson, r.ToolPrompt, templateKwargs), keepPromptTokens);
        // With a reasoning parser, a reply that starts inside its reasoning is free until </think>: a structured output or a
        // tool grammar applies to the content after it (as vLLM defers the grammar), and the tags must stay in the text.
        bool? startsInReasoning = null;
        if (model.Reasoning is { } reasoning) (sampling, startsInReasoning) = reasoning.Prepare(sampling, promptIds, templateKwargs);
        bool includeReasoning = r.IncludeReasoning ?? true;
        OpenAiSampling.CheckContext(model, promptIds.Length, maxTokens, maxField);
        int n = r.N ?? 1;
        using var admission = model.Admit(n, ct);
        var streams = new List<IAsyncEnumerable<RequestOutput>>(n);
        for (int i = 0; i < n; i++)
        {
            // The prompt is the same for every choice: only the first one scores it (prompt_logprobs, reported once).
            var choiceSampling = OpenAiSampling.ForChoice(sampling, i);
            if (i > 0) choiceSampling = choiceSampling with { PromptLogprobs = null };
            streams.Add(model.Start(promptIds, choiceSampling, "messages", admission.Token));
        }
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var tokenizer = model.Tokenizer;
        var names = new LogprobTokenNames(tokenizer, r.ReturnTokensAsTokenIds == true);
        // With a reasoning parser, usage tells how many completion tokens were reasoning (those up to </think>, per choice).
        var reasoningTokens = new ReasoningTokenCounter?[n];
        for (int i = 0; i < n; i++) reasoningTokens[i] = model.Reasoning?.TokenCounter(startsInReasoning == true);
        Usage ChatUsage(int completion) => Usage(promptIds.Length * n, completion) with
        {
            CompletionTokensDetails = startsInReasoning is null ? null : new CompletionTokensDetails(reasoningTokens.Sum(c => c!.Count)),
        };

        if (r.Stream != true)
        {
            var texts = new StringBuilder[n];
            var reasons = new string?[n];
            var logprobs = new List<ChatTokenLogprob>?[n];
            List<Dictionary<string, PromptTokenLogprob>?>? promptLogprobs = null;
            int completionTokens = 0;
            for (int i = 0; i < n; i++) (texts[i], logprobs[i]) = (new StringBuilder(), sampling.Logprobs.HasValue ? [] : null);
            await foreach (var (i, o) in StreamMerger.Merge(streams, ct))
            {
                if (o.PromptLogprobs is { } pl) promptLogprobs = OpenAiLogprobs.VllmPromptLogprobs(tokenizer, pl, r.PromptLogprobs ?? 0);
                texts[i].Append(o.NewText);
                reasoningTokens[i]?.Add(o.NewTokenIds);
                foreach (var s in o.NewLogprobs ?? []) logprobs[i]!.Add(OpenAiLogprobs.ForChat(names, s));
                if (o.Finished)
                {
                    reasons[i] = ServedModel.ReasonName(o.FinishReason);
                    completionTokens += o.NumOutputTokens;
                }
            }
            var choices = new ChatChoice[n];
            for (int i = 0; i < n; i++)
            {
                var (message, reason) = ChatReply.Read(tools, singleCall, texts[i].ToString(), reasons[i] ?? "abort", startsInReasoning, includeReasoning);
                choices[i] = new ChatChoice(i, message, logprobs[i] is { } l ? new ChatLogprobs(l) : null, reason);
            }
            return TypedResults.Json(new ChatCompletion(id, created, model.Name, choices, ChatUsage(completionTokens), promptLogprobs), ApiJson.Options);
        }

        var sse = new SseWriter(context.Response);
        // continuous_usage_stats: each chunk carries its choice's prompt and the tokens it generated so far (vLLM's counts).
        bool continuous = r.StreamOptions?.Continuous == true;
        Usage? SoFar(int completion) => continuous ? Usage(promptIds.Length, completion) : null;
        for (int i = 0; i < n; i++)
            await sse.WriteAsync(new ChatCompletionChunk(id, created, model.Name, [new ChatChunkChoice(i, new ChatDelta("assistant", ""), null, null)], SoFar(0)), ApiJson.Options, ct);
        int generated = 0;
        var replies = new ChatReplyStreamer[n];
        for (int i = 0; i < n; i++) replies[i] = new ChatReplyStreamer(tools, singleCall, startsInReasoning, includeReasoning);
        await foreach (var (i, o) in StreamMerger.Merge(streams, ct))
        {
            if (o.NewText.Length == 0 && !o.Finished && o.NewLogprobs is null) continue;
            var lp = o.NewLogprobs is { } ls ? new ChatLogprobs([.. ls.Select(s => OpenAiLogprobs.ForChat(names, s))]) : null;
            if (o.Finished) generated += o.NumOutputTokens;
            reasoningTokens[i]?.Add(o.NewTokenIds);
            var (delta, reason) = replies[i].Add(o, mustSend: lp is not null);
            if (delta is null) continue;
            await sse.WriteAsync(new ChatCompletionChunk(id, created, model.Name, [new ChatChunkChoice(i, delta, lp, reason)], SoFar(o.NumOutputTokens)), ApiJson.Options, ct);
        }
        if (r.StreamOptions?.IncludeUsage == true)
            await sse.WriteAsync(new ChatCompletionChunk(id, created, model.Name, [], ChatUsage(generated)), ApiJson.Options, ct);
        await sse.WriteDoneAsync(ct);
        return TypedResults.Empty;
    }

    private static async Task<IResult> Completions(HttpContext context, ServedModel model)
    {
        var ct = context.RequestAborted;
        var r = await JsonBody.ReadAsync<CompletionRequest>(context.Request, ct);
        var lora = model.ResolveLora(r.Model);
        if (!string.IsNullOrEmpty(r.Suffix))
            throw RequestException.BadRequest("'suffix' (text after the insertion) is not supported", "suffix");
        int? keepPromptTokens = PromptTruncation.KeepCount(model, r.TruncatePromptTokens);
        var prompts = CompletionPrompts.Parse(r.Prompt, model.Tokenizer, OpenAiSampling.MaxChoices)
            .Select(p => PromptTruncation.Apply(p, keepPromptTokens, model.Tokenizer)).ToList();
        // echo with logprobs scores the prompt too (OpenAI's legacy behaviour, what lm-evaluation-harness's loglikelihood uses).
        bool scorePrompt = r.Echo == true && r.Logprobs.HasValue;
        // echo with max_tokens 0 returns the prompt alone (with its scores): the engine samples one token, which is dropped.
        bool promptOnly = r.Echo == true && r.MaxTokens == 0;
        // The prompt is scored for vLLM's prompt_logprobs, for echo with logprobs, or both (then with the larger top-k).
        int? promptTopK = r.PromptLogprobs is null && !scorePrompt ? null : Math.Max(r.PromptLogprobs ?? 0, scorePrompt ? r.Logprobs!.Value : 0);
        var sampling = OpenAiSampling.Build(model, r, promptOnly ? 1 : r.MaxTokens ?? 16, r.Logprobs) with
        {
            LoraName = lora,
            PromptLogprobs = promptTopK,
        };
        foreach (var p in prompts) OpenAiSampling.CheckContext(model, p.Ids.Length, r.MaxTokens, "max_tokens");
        int n = r.N ?? 1;
        int total = prompts.Count * n;
        if (total > OpenAiSampling.MaxChoices)
            throw RequestException.BadRequest($"prompts × n is {total}; at most {OpenAiSampling.MaxChoices} choices per request", "n");
        foreach (var p in prompts) model.Check(p.Ids, sampling, "prompt"); // every prompt, before any starts
        using var admission = model.Admit(total, ct);
        var streams = new List<IAsyncEnumerable<RequestOutput>>(total);
        foreach (var p in prompts)
            for (int i = 0; i < n; i++)
            {
                // A prompt is scored once, by its first choice; the others reuse the scores (and may read the prefix cache).
                var choiceSampling = OpenAiSampling.ForChoice(sampling, i);
                streams.Add(model.Start(p.Ids, i > 0 ? choiceSampling with { PromptLogprobs = null } : choiceSampling, "prompt", admission.Token));
            }
        var id = "cmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var tokenizer = model.Tokenizer;
        var names = new LogprobTokenNames(tokenizer, r.ReturnTokensAsTokenIds == true);
        int promptTokens = prompts.Sum(p => p.Ids.Length) * n;
        string Echo(int choice) => r.Echo == true ? prompts[choice / n].Text : "";

        if (r.Stream != true)
        {
            var texts = new StringBuilder[total];
            var reasons = new string?[total];
            var logprobs = new CompletionLogprobs?[total];
            var promptLogprobs = new List<Dictionary<string, PromptTokenLogprob>?>?[total];
            int completionTokens = 0;
            for (int i = 0; i < total; i++)
            {
                texts[i] = new StringBuilder(Echo(i));
                logprobs[i] = sampling.Logprobs.HasValue ? CompletionLogprobs.Empty() : null;
            }
            var scores = new IReadOnlyList<SampleResult>?[prompts.Count]; // each prompt's, from its first choice
            await foreach (var (i, o) in StreamMerger.Merge(streams, ct))
            {
                if (o.PromptLogprobs is { } pl) scores[i / n] = pl;
                if (!promptOnly)
                {
                    foreach (var s in o.NewLogprobs ?? []) OpenAiLogprobs.AddForCompletion(logprobs[i]!, names, s, texts[i].Length);
                    texts[i].Append(o.NewText);
                }
                if (o.Finished)
                {
                    reasons[i] = ReasonName(o, promptOnly);
                    completionTokens += promptOnly ? 0 : o.NumOutputTokens;
                }
            }
            for (int i = 0; i < total; i++)
            {
                if (scores[i / n] is not { } pl) continue;
                if (scorePrompt)
                {
                    // The prompt's entries come first, then the generated ones (whose text offsets already count the echo).
                    var whole = CompletionLogprobs.Empty();
                    OpenAiLogprobs.AddPromptForCompletion(whole, names, prompts[i / n].Ids, pl, r.Logprobs!.Value);
                    whole.Append(logprobs[i]!);
                    logprobs[i] = whole;
                }
                if (r.PromptLogprobs is { } k) promptLogprobs[i] = OpenAiLogprobs.VllmPromptLogprobs(tokenizer, pl, k);
            }
            var choices = new CompletionChoice[total];
            for (int i = 0; i < total; i++) choices[i] = new CompletionChoice(i, texts[i].ToString(), logprobs[i], reasons[i] ?? "abort", promptLogprobs[i]);
            return TypedResults.Json(new Completion(id, created, model.Name, choices, Usage(promptTokens, completionTokens)), ApiJson.Options);
        }

        var sse = new SseWriter(context.Response);
        // continuous_usage_stats: each chunk carries its choice's prompt and the tokens it generated so far (vLLM's counts).
        bool continuous = r.StreamOptions?.Continuous == true;
        Usage? SoFar(int choice, int completion) => continuous ? Usage(prompts[choice / n].Ids.Length, completion) : null;
        var offsets = new int[total];
        var echoed = new bool[total];
        // The echo goes first; when the prompt is scored, it waits for the scores, which the prompt's first choice brings
        // with its first output. The other choices' outputs wait (in order) until then.
        for (int i = 0; i < total && r.Echo == true && !scorePrompt; i++) await WriteEchoAsync(i, null);
        var streamScores = new CompletionLogprobs?[prompts.Count];
        var scored = new bool[prompts.Count];
        var waiting = new List<RequestOutput>?[total];
        int generated = 0;
        await foreach (var (i, o) in StreamMerger.Merge(streams, ct))
        {
            if (scorePrompt && !echoed[i])
            {
                int p = i / n;
                if (o.PromptLogprobs is { } pl)
                {
                    OpenAiLogprobs.AddPromptForCompletion(streamScores[p] = CompletionLogprobs.Empty(), names, prompts[p].Ids, pl, r.Logprobs!.Value);
                    scored[p] = true;
                }
                else if (i % n == 0) scored[p] = true; // aborted before its scores: the choices echo without them
                if (!scored[p])
                {
                    (waiting[i] ??= []).Add(o);
                    continue;
                }
                await WriteEchoAsync(i, streamScores[p]);
                await WriteOutputAsync(i, o);
                for (int j = p * n; j < (p + 1) * n; j++)
                {
                    if (waiting[j] is not { } queued) continue;
                    waiting[j] = null;
                    await WriteEchoAsync(j, streamScores[p]);
                    foreach (var q in queued) await WriteOutputAsync(j, q);
                }
                continue;
            }
            await WriteOutputAsync(i, o);
        }
        // Choices still waiting (their prompt's first choice ended without scores) echo without them.
        for (int j = 0; j < total; j++)
        {
            if (waiting[j] is not { } queued) continue;
            await WriteEchoAsync(j, streamScores[j / n]);
            foreach (var q in queued) await WriteOutputAsync(j, q);
        }
        if (r.StreamOptions?.IncludeUsage == true)
            await sse.WriteAsync(new Completion(id, created, model.Name, [], Usage(promptTokens, generated)), ApiJson.Options, ct);
        await sse.WriteDoneAsync(ct);
        return TypedResults.Empty;

        async Task WriteOutputAsync(int i, RequestOutput o)
        {
            if (promptOnly)
            {
                if (o.Finished)
                    await sse.WriteAsync(new Completion(id, created, model.Name, [new CompletionChoice(i, "", null, ReasonName(o, promptOnly))], SoFar(i, 0)), ApiJson.Options, ct);
                return;
            }
            if (o.NewText.Length == 0 && !o.Finished && o.NewLogprobs is null) return;
            CompletionLogprobs? lp = null;
            if (o.NewLogprobs is { } ls)
            {
                lp = CompletionLogprobs.Empty();
                foreach (var s in ls) OpenAiLogprobs.AddForCompletion(lp, names, s, offsets[i]);
            }
            offsets[i] += o.NewText.Length;
            if (o.Finished) generated += o.NumOutputTokens;
            var choice = new CompletionChoice(i, o.NewText, lp, o.Finished ? ServedModel.ReasonName(o.FinishReason) : null);
            await sse.WriteAsync(new Completion(id, created, model.Name, [choice], SoFar(i, o.NumOutputTokens)), ApiJson.Options, ct);
        }

        async Task WriteEchoAsync(int i, CompletionLogprobs? promptLogprobs)
        {
            echoed[i] = true;
            offsets[i] = Echo(i).Length;
            await sse.WriteAsync(new Completion(id, created, model.Name, [new CompletionChoice(i, Echo(i), promptLogprobs, null)], SoFar(i, 0)), ApiJson.Options, ct);
        }
    }

    private static Usage Usage(int prompt, int completion) => new(prompt, completion, prompt + completion);

    // A prompt-only request (echo, max_tokens 0) generated nothing it reports: it ended at its length, unless aborted.
    private static string ReasonName(RequestOutput o, bool promptOnly) =>
        promptOnly && o.FinishReason != FinishReason.Abort ? "length" : ServedModel.ReasonName(o.FinishReason);
}
