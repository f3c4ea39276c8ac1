// The one engine every API family submits to: model name, chat format, admission (the --max-queue limit) and per-request metrics.
// Invariant: every stream handed out records exactly one finish (its reason, or "abort" when the client went away).
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Estuary.Engine;
using Estuary.Server.Metrics;
using Estuary.Engine.Reasoning;
using Estuary.Engine.Tools;
using Estuary.Tokenization;
using Estuary.Tokenization.Templates;

namespace Estuary.Server.Generation;

internal sealed class ServedModel(AsyncLlmEngine engine, IChatFormat chatFormat, string name, int maxQueue, ServerMetrics metrics)
{
    private int _inFlight;

    public AsyncLlmEngine Engine { get; } = engine;
    public LlmEngine Core => Engine.Engine;
    public TextTokenizer Tokenizer => Core.Tokenizer;
    public IChatFormat ChatFormat { get; } = chatFormat;
    public string Name { get; } = name;
    public int MaxModelLen => Core.MaxModelLen;

    /// <summary>The server's tool prompt for the built-in formats (--tool-prompt), or null for the default.</summary>
    public string? ToolPrompt { get; init; }

    /// <summary>How new tool call ids look: nine letters and digits when the chat template demands it (Mistral's), else OpenAI's.</summary>
    public ToolCallIdStyle ToolCallIdStyle => ToolCallParser == ToolCallParser.Mistral ? ToolCallIdStyle.NineAlphanumeric : _templateIdStyle;

    private readonly ToolCallIdStyle _templateIdStyle = ToolCalls.IdStyleFor((chatFormat as TemplateChatFormat)?.Template.Source);

    /// <summary>How "auto" replies' tool calls are read (--tool-call-parser).</summary>
    public ToolCallParser ToolCallParser { get; init; }

    /// <summary>How chat replies' reasoning is read (--reasoning-parser); null when it is not.</summary>
    public ReasoningFormat? Reasoning { get; init; }

    /// <summary>The Responses API's store (--enable-responses-api-store); null when responses are not kept.</summary>
    public Apis.Responses.ResponseStore? Responses { get; init; }

    /// <summary>Number of admitted requests not yet finished.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>The most requests this server holds at once: max_num_seqs running plus max_queue waiting.</summary>
    public int Capacity => Core.Config.MaxNumSeqs + maxQueue;

    /// <summary>
    /// Claims room for <paramref name="count"/> requests, or returns null when running + queued would exceed
    /// max_num_seqs + max_queue (the caller answers 503). <paramref name="requestAborted"/> is the HTTP request's abort token.
    /// </summary>
    public Admission? TryAdmit(int count, CancellationToken requestAborted = default)
    {
        while (true)
        {
            int current = Volatile.Read(ref _inFlight);
            if (current + count > Capacity)
            {
                metrics.Rejected.Inc();
                return null;
            }
            if (Interlocked.CompareExchange(ref _inFlight, current + count, current) == current) return new Admission(this, count, requestAborted);
        }
    }

    /// <summary>
    /// <see cref="TryAdmit"/> or a 503 to retry later; a request of more choices than the server can ever hold is a 400 on
    /// <paramref name="field"/> instead, since no retry could succeed.
    /// </summary>
    public Admission Admit(int count, CancellationToken requestAborted, string field = "n")
    {
        if (count > Capacity)
            throw RequestException.BadRequest($"the request asks for {count} sequences at once; this server holds at most {Capacity} " +
                "(max_num_seqs + max_queue)", field);
        return TryAdmit(count, requestAborted) ?? throw new RequestException(503,
            $"the server is busy ({InFlight} requests running or queued); retry later", code: "queue_full");
    }

    /// <summary>Throws a 400 on <paramref name="promptField"/> when the engine would refuse the request (checked before any starts).</summary>
    public void Check(int[] promptIds, SamplingParams sampling, string promptField)
    {
        var errors = Core.ValidateRequest(promptIds, sampling);
        if (errors.Count > 0) throw RequestException.FromValidation(errors, promptField);
    }

    /// <summary>Adapter names served next to the base model.</summary>
    public IReadOnlyList<string> Adapters => Core.LoraNames;

    /// <summary>Throws a 404 naming the "model" field unless <paramref name="requested"/> is absent, this model's name or an adapter's.</summary>
    public void CheckModel(string? requested) => ResolveLora(requested);

    /// <summary>
    /// The LoRA adapter a request's "model" selects: null for the base model (absent or its name), the adapter's name, or a 404
    /// naming every served model.
    /// </summary>
    public string? ResolveLora(string? requested)
    {
        if (requested is null || requested == Name) return null;
        foreach (var adapter in Adapters)
            if (adapter == requested) return adapter;
        var served = string.Join("', '", [Name, .. Adapters]);
        throw new RequestException(404, $"the model '{requested}' does not exist; this server serves '{served}'", "model", "model_not_found");
    }

    public void Release(int count) => Interlocked.Add(ref _inFlight, -count);

    /// <summary>
    /// Tokens of a chat conversation in the model's format; bad roles or order are a 400 on <paramref name="field"/>.
    /// Leaving the assistant's turn unopened (vLLM's add_generation_prompt false) or continuing the last message
    /// (continue_final_message, which turns add_generation_prompt's default to false) needs a chat template; the built-in
    /// formats always open the assistant's turn (400 naming the option otherwise). <paramref name="toolsJson"/> (the request's
    /// tools) is the template's <c>tools</c> variable; the built-in formats, which have no tool turns, get the tools and tool
    /// turns written as text (ToolConversation).
    /// </summary>
    public int[] BuildChatPrompt(IReadOnlyList<ChatMessage> messages, int maxNewTokens, string field, bool? addGenerationPromptAsked = null,
        bool? continueFinalMessageAsked = null, string? toolsJson = null, string? toolPrompt = null, string? templateKwargsJson = null)
    {
        bool continueFinalMessage = continueFinalMessageAsked ?? false;
        bool addGenerationPrompt = addGenerationPromptAsked ?? !continueFinalMessage;
        if (continueFinalMessage && addGenerationPrompt)
            throw RequestException.BadRequest("continue_final_message and add_generation_prompt cannot both be true", "continue_final_message");
        if ((!addGenerationPrompt || continueFinalMessage) && ChatFormat is not TemplateChatFormat)
        {
            var option = continueFinalMessage ? "continue_final_message" : "add_generation_prompt";
            throw RequestException.BadRequest($"{option} needs a chat template; this model uses the built-in {ChatFormat.Name} format, " +
                "which always opens the assistant's turn", option);
        }
        if (templateKwargsJson is not null && ChatFormat is not TemplateChatFormat)
            throw RequestException.BadRequest($"chat_template_kwargs needs a chat template; this model uses the built-in {ChatFormat.Name} format",
                "chat_template_kwargs");
        try
        {
            ChatTemplate.TemplateKwargs(templateKwargsJson);
        }
        catch (ArgumentException e)
        {
            throw RequestException.BadRequest(e.Message, "chat_template_kwargs");
        }
        try
        {
            return ToolConversation.BuildPrompt(ChatFormat, messages, maxNewTokens, toolsJson, toolPrompt ?? ToolPrompt, addGenerationPrompt,
                continueFinalMessage, templateKwargsJson);
        }
        catch (ArgumentException e)
        {
            throw RequestException.BadRequest(e.Message.Split(" (Parameter", 2)[0], field);
        }
    }

    /// <summary>A request's chat_template_kwargs as JSON text, or null when absent, null or empty.</summary>
    public static string? TemplateKwargsJson(System.Text.Json.JsonElement? kwargs) =>
        kwargs is { ValueKind: not (System.Text.Json.JsonValueKind.Null or System.Text.Json.JsonValueKind.Undefined) } k
        && !(k.ValueKind == System.Text.Json.JsonValueKind.Object && !k.EnumerateObject().Any()) ? k.GetRawText() : null;

    /// <summary>Validates (400 naming the field) and queues one request; enumerate the result to stream it.</summary>
    public IAsyncEnumerable<RequestOutput> Start(int[] promptIds, SamplingParams sampling, string promptField, CancellationToken cancellationToken)
    {
        Check(promptIds, sampling, promptField);
        var started = Stopwatch.GetTimestamp();
        IAsyncEnumerable<RequestOutput> stream;
        try
        {
            stream = Engine.Generate(promptIds, sampling, cancellationToken: cancellationToken);
        }
        catch (ObjectDisposedException)
        {
            throw new RequestException(503, "the server is shutting down", code: "shutting_down");
        }
        return Track(stream, sampling.LoraName, started, cancellationToken);
    }

    private async IAsyncEnumerable<RequestOutput> Track(IAsyncEnumerable<RequestOutput> stream, string? lora, long started,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        double? firstToken = null;
        double? queue = null;
        int outputTokens = 0;
        string reason = "abort";
        var outputs = stream.GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                try
                {
                    if (!await outputs.MoveNextAsync()) break;
                }
                catch (ArgumentException) when (lora is not null && !Adapters.Contains(lora))
                {
                    // The adapter was unloaded after this request was checked and before the engine queued it.
                    throw new RequestException(404, $"the model '{lora}' does not exist; it was unloaded", "model", "model_not_found");
                }
                var output = outputs.Current;
                if (firstToken is null && output.NewTokenIds.Count > 0)
                {
                    firstToken = Stopwatch.GetElapsedTime(started).TotalSeconds;
                    metrics.RecordFirstToken(firstToken.Value, output.NumPromptTokens, output.NumCachedTokens);
                }
                queue ??= output.QueueSeconds;
                outputTokens = output.NumOutputTokens;
                if (output.Finished) reason = ReasonName(output.FinishReason);
                yield return output;
            }
        }
        finally
        {
            await outputs.DisposeAsync();
            metrics.RecordFinish(reason, Stopwatch.GetElapsedTime(started).TotalSeconds, firstToken, outputTokens, queue);
        }
    }

    public static string ReasonName(FinishReason? reason) => reason switch
    {
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        _ => "abort",
    };
}
