// Estuary as a Microsoft.Extensions.AI IChatClient, in process: the same engine, chat formats, structured output and function
// calling the server offers, behind the abstraction .NET applications program against (so ChatClientBuilder middleware such as
// UseFunctionInvocation, logging, caching and OpenTelemetry work over a local model).
// Invariant: every call is its own engine request, aborted (its KV blocks freed) when its enumeration is cancelled or abandoned;
// a reply that was meant to be function calls but was cut short (length, a stop sequence) comes back as text, never as a
// call with broken arguments.
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Estuary.Engine;
using Estuary.Engine.Reasoning;
using Estuary.Engine.Tools;
using Estuary.Tokenization;
using Microsoft.Extensions.AI;

namespace Estuary.AI;

/// <summary>An <see cref="IChatClient"/> over a local Estuary engine.</summary>
public sealed class EstuaryChatClient : IChatClient
{
    private readonly AsyncLlmEngine _engine;
    private readonly IChatFormat _chatFormat;
    private readonly bool _ownsEngine;
    private readonly ChatClientMetadata _metadata;
    private readonly ReasoningFormat? _reasoning;
    private readonly ToolCallIdStyle _callIdStyle; // Mistral's templates demand nine-character ids

    /// <summary>
    /// A client over <paramref name="engine"/>, building prompts with <paramref name="chatFormat"/>; <paramref name="modelId"/>
    /// is the id responses carry (ChatOptions.ModelId may also name a loaded LoRA adapter). With <paramref name="ownsEngine"/>,
    /// disposing the client disposes the engine. With <paramref name="reasoningParser"/> (the server's --reasoning-parser),
    /// a reply's &lt;think&gt;…&lt;/think&gt; comes back as <see cref="TextReasoningContent"/>, and assistant messages' reasoning
    /// reaches the chat template.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="reasoningParser"/> needs &lt;think&gt; and &lt;/think&gt; as tokens, and the tokenizer lacks one.</exception>
    public EstuaryChatClient(AsyncLlmEngine engine, IChatFormat chatFormat, string modelId, bool ownsEngine = false,
        ReasoningParser reasoningParser = ReasoningParser.None)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(chatFormat);
        ArgumentException.ThrowIfNullOrEmpty(modelId);
        _reasoning = ReasoningFormat.Create(reasoningParser, engine.Engine.Tokenizer);
        _callIdStyle = ToolCalls.IdStyleFor((chatFormat as TemplateChatFormat)?.Template.Source);
        (_engine, _chatFormat, _ownsEngine) = (engine, chatFormat, ownsEngine);
        ModelId = modelId;
        _metadata = new ChatClientMetadata("estuary", null, modelId);
    }

    /// <summary>
    /// Loads a Hugging Face model folder (with optional LoRA adapters, name → folder) and its chat format (the folder's, or
    /// <paramref name="chatTemplate"/>, as the server's --chat-template); the client owns the engine.
    /// </summary>
    public static EstuaryChatClient Load(string modelDir, EngineConfig? config = null, string? chatTemplate = null,
        IReadOnlyDictionary<string, string>? loras = null, ReasoningParser reasoningParser = ReasoningParser.None)
    {
        var engine = LlmEngine.Load(modelDir, config, loras: loras);
        try
        {
            var format = ChatFormats.ForModel(modelDir, engine.Tokenizer, chatTemplate: chatTemplate);
            var modelId = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDir)));
            return new EstuaryChatClient(new AsyncLlmEngine(engine), format, modelId, ownsEngine: true, reasoningParser);
        }
        catch
        {
            engine.Dispose();
            throw;
        }
    }

    /// <summary>The model's id in responses.</summary>
    public string ModelId { get; }

    /// <summary>The engine the client submits to.</summary>
    public AsyncLlmEngine Engine => _engine;

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">bad messages or options, or a request the engine refuses (the message names it).</exception>
    /// <exception cref="NotSupportedException">an option a local, stateless model cannot honour.</exception>
    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        // Built and validated here, so bad input throws at the call; the request starts when the updates are first read.
        var request = ChatRequest.Build(_engine.Engine, _chatFormat, ModelId, messages, options, _reasoning);
        var errors = _engine.Engine.ValidateRequest(request.PromptIds, request.Sampling);
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors), nameof(options));
        return Stream(request, cancellationToken);
    }

    private async IAsyncEnumerable<ChatResponseUpdate> Stream(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var outputs = _engine.Generate(request.PromptIds, request.Sampling, cancellationToken: cancellationToken);
        var responseId = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow;
        var reply = new StringBuilder();
        // Text goes out as it comes unless the reply is (or may yet be) function calls: a named call, "required", or an
        // "auto" reply whose first character other than whitespace is "[" or has not come yet.
        int released = 0;
        RequestOutput? last = null;
        // With a reasoning parser the reasoning goes out as it comes; the content after it is the reply read below.
        var splitter = request.StartsInReasoning is { } starts ? new ReasoningSplitter(starts) : null;
        var reasoningTokens = _reasoning?.TokenCounter(splitter!.HasReasoning);
        await foreach (var output in outputs.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            var content = output.NewText;
            if (splitter is not null)
            {
                (var reasoning, content) = splitter.Add(output.NewText, output.Finished);
                reasoningTokens!.Add(output.NewTokenIds);
                if (reasoning.Length > 0 && request.IncludeReasoning) yield return Update(responseId, created, new TextReasoningContent(reasoning));
            }
            reply.Append(content);
            last = output;
            if (IsText(request, reply) && reply.Length > released)
            {
                yield return Update(responseId, created, new TextContent(reply.ToString(released, reply.Length - released)));
                released = reply.Length;
            }
        }
        if (last is null) yield break; // aborted before anything was produced

        var text = reply.ToString();
        var calls = IsText(request, reply) ? null : Calls(request, text, last.FinishReason, _callIdStyle);
        var final = Update(responseId, created);
        if (calls is not null)
        {
            foreach (var call in calls) final.Contents.Add(call);
            final.FinishReason = ChatFinishReason.ToolCalls;
        }
        else
        {
            if (text.Length > released) final.Contents.Add(new TextContent(text[released..]));
            final.FinishReason = last.FinishReason switch
            {
                FinishReason.Stop => ChatFinishReason.Stop,
                FinishReason.Length => ChatFinishReason.Length,
                _ => null,
            };
        }
        final.Contents.Add(new UsageContent(new UsageDetails
        {
            InputTokenCount = last.NumPromptTokens,
            OutputTokenCount = last.NumOutputTokens,
            TotalTokenCount = last.NumPromptTokens + last.NumOutputTokens,
            CachedInputTokenCount = last.NumCachedTokens,
            ReasoningTokenCount = reasoningTokens?.Count,
        }));
        yield return final;
    }

    private ChatResponseUpdate Update(string responseId, DateTimeOffset created, AIContent? content = null) =>
        new(ChatRole.Assistant, content is null ? [] : [content]) { ResponseId = responseId, MessageId = responseId, CreatedAt = created, ModelId = ModelId };

    // Whether the reply so far is plain text that may go out: no tools, or an "auto" reply that began with something other
    // than "[" (or "{", when a bare call object is allowed).
    private static bool IsText(ChatRequest request, StringBuilder reply)
    {
        if (request.ToolMode is null or ToolCallMode.None) return true;
        if (request.ToolMode != ToolCallMode.Auto) return false;
        for (int i = 0; i < reply.Length; i++)
            if (!ToolCalls.IsJsonWhitespace(reply[i])) return !ToolCalls.BeginsCalls(reply[i], request.SingleCall);
        return false;
    }

    // The function calls of a finished reply, or null when it was cut before they were complete.
    private static List<FunctionCallContent>? Calls(ChatRequest request, string text, FinishReason? reason, ToolCallIdStyle idStyle)
    {
        if (reason != FinishReason.Stop) return null;
        if (request.ToolMode == ToolCallMode.Named)
            return Arguments(text) is { } args ? [new FunctionCallContent(ToolCalls.NewCallId(idStyle), request.FunctionName!, args)] : null;
        if (ToolCalls.TryParseCalls(text, request.SingleCall) is not { } parsed) return null;
        var calls = new List<FunctionCallContent>();
        foreach (var (name, arguments) in parsed)
        {
            if (Arguments(arguments) is not { } args) return null;
            calls.Add(new FunctionCallContent(ToolCalls.NewCallId(idStyle), name, args));
        }
        return calls;
    }

    // A JSON object's members as the argument dictionary AIFunction binds (values as JsonElement, as the OpenAI client gives them).
    private static Dictionary<string, object?>? Arguments(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return null;
            var args = new Dictionary<string, object?>();
            foreach (var property in doc.RootElement.EnumerateObject()) args[property.Name] = property.Value.Clone();
            return args;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(ChatClientMetadata)) return _metadata;
        if (serviceType == typeof(AsyncLlmEngine)) return _engine;
        if (serviceType == typeof(LlmEngine)) return _engine.Engine;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsEngine) _engine.Dispose();
    }
}
