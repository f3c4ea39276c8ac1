// One chat call's request to the engine, read from Microsoft.Extensions.AI's ChatOptions over the model's
// generation_config.json defaults: sampling, structured output (ResponseFormat), tools (ToolMode), the LoRA adapter (ModelId),
// chat-template variables, and where the reply starts when a reasoning parser reads it.
// Invariant: an option that would change the answer and cannot be honoured is an exception naming it, never ignored.
using System.Text.Json;
using System.Text.Json.Nodes;
using Estuary.Engine;
using Estuary.Engine.Reasoning;
using Estuary.Engine.Tools;
using Estuary.Tokenization;
using Microsoft.Extensions.AI;

namespace Estuary.AI;

/// <summary>What a chat call asks the engine for: the prompt, the sampling, and how the reply uses the tools (null: no tools; None: shown, not called).</summary>
internal sealed record ChatRequest(int[] PromptIds, SamplingParams Sampling, ToolCallMode? ToolMode, string? FunctionName)
{
    /// <summary>With a reasoning parser, whether the reply starts inside its reasoning; null without one.</summary>
    public bool? StartsInReasoning { get; init; }

    /// <summary>Whether the reasoning is returned (ChatOptions.Reasoning.Output other than None).</summary>
    public bool IncludeReasoning { get; init; } = true;

    /// <summary>Whether a reply may also be one call as a bare object (auto without a response format).</summary>
    public bool SingleCall => ToolMode is { } mode && ToolCalls.AllowsSingleCall(mode, Sampling.StructuredOutput);

    /// <summary>The names ChatOptions.AdditionalProperties may carry for settings ChatOptions has no property for.</summary>
    public const string MinPKey = "min_p", RepetitionPenaltyKey = "repetition_penalty", MinTokensKey = "min_tokens",
        IgnoreEosKey = "ignore_eos", LogitBiasKey = "logit_bias", StructuredOutputKey = "structured_output", ToolPromptKey = "tool_prompt",
        ChatTemplateKwargsKey = "chat_template_kwargs";

    /// <exception cref="ArgumentException">bad messages, options or values (the message names the option).</exception>
    /// <exception cref="NotSupportedException">an option this client cannot honour (server-side conversations, hosted tools).</exception>
    public static ChatRequest Build(LlmEngine engine, IChatFormat chatFormat, string modelId, IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages, ChatOptions? options,
        ReasoningFormat? reasoning = null)
    {
        options ??= new ChatOptions();
        if (options.ConversationId is not null || options.ContinuationToken is not null)
            throw new NotSupportedException("ChatOptions.ConversationId and ContinuationToken need a service that keeps conversations; this client is stateless: send the whole history");
        var turns = ChatMessageConversion.ToTurns(messages, options.Instructions);

        var sampling = engine.DefaultSamplingParams(options.MaxOutputTokens);
        if (options.Temperature is { } t) sampling = sampling with { Temperature = t };
        if (options.TopP is { } topP) sampling = sampling with { TopP = topP };
        if (options.TopK is { } topK) sampling = sampling with { TopK = topK };
        if (options.FrequencyPenalty is { } fp) sampling = sampling with { FrequencyPenalty = fp };
        if (options.PresencePenalty is { } pp) sampling = sampling with { PresencePenalty = pp };
        sampling = sampling with { Seed = options.Seed, Stop = options.StopSequences is { } stop ? [.. stop] : [], LoraName = Adapter(engine, modelId, options.ModelId) };
        sampling = WithAdditionalProperties(sampling, options.AdditionalProperties);

        var structured = sampling.StructuredOutput ?? ResponseFormat(options.ResponseFormat);
        var (mode, functionName, tools, toolsJson) = Tools(options);
        // A JSON response format goes with the tools: under auto the reply is calls or such an answer; calls otherwise.
        if (mode is { } m) structured = ToolCalls.Constraint(tools, m, functionName, options.AllowMultipleToolCalls ?? true, structured);
        sampling = sampling with { StructuredOutput = structured };

        var templateKwargs = WithThinking(TemplateKwargs(options.AdditionalProperties), options.Reasoning, reasoning, chatFormat);
        if (templateKwargs is not null && chatFormat is not TemplateChatFormat)
            throw new ArgumentException($"AdditionalProperties['{ChatTemplateKwargsKey}'] needs a chat template; this model uses the built-in {chatFormat.Name} format", "options");
        int[] promptIds = ToolConversation.BuildPrompt(chatFormat, turns, sampling.MaxTokens ?? 0, mode is null ? null : toolsJson, ToolPrompt(options.AdditionalProperties),
            templateKwargsJson: templateKwargs);
        // As the server's --reasoning-parser: a reply that starts inside its reasoning is free until </think>, where a response
        // format or tool grammar begins; the tags must stay in the text to be read.
        bool? startsInReasoning = null;
        if (reasoning is not null) (sampling, startsInReasoning) = reasoning.Prepare(sampling, promptIds, templateKwargs);
        return new ChatRequest(promptIds, sampling, mode, functionName)
        {
            StartsInReasoning = startsInReasoning,
            IncludeReasoning = options.Reasoning?.Output != ReasoningOutput.None,
        };
    }

    // ModelId selects a LoRA adapter by name; the base model's id (or none) is the base model.
    private static string? Adapter(LlmEngine engine, string modelId, string? requested)
    {
        if (requested is null || requested == modelId) return null;
        if (engine.LoraNames.Contains(requested)) return requested;
        throw new ArgumentException($"ChatOptions.ModelId '{requested}' is neither this model ('{modelId}') nor one of its adapters ({(engine.LoraNames.Count == 0 ? "none loaded" : string.Join(", ", engine.LoraNames))})", "options");
    }

    private static SamplingParams WithAdditionalProperties(SamplingParams sampling, AdditionalPropertiesDictionary? extra)
    {
        if (extra is null) return sampling;
        if (extra.ContainsKey(MinPKey)) sampling = sampling with { MinP = Get<float>(extra, MinPKey) };
        if (extra.ContainsKey(RepetitionPenaltyKey)) sampling = sampling with { RepetitionPenalty = Get<float>(extra, RepetitionPenaltyKey) };
        if (extra.ContainsKey(MinTokensKey)) sampling = sampling with { MinTokens = Get<int>(extra, MinTokensKey) };
        if (extra.ContainsKey(IgnoreEosKey)) sampling = sampling with { IgnoreEos = Get<bool>(extra, IgnoreEosKey) };
        if (extra.TryGetValue(LogitBiasKey, out var bias))
            sampling = sampling with { LogitBias = bias as IReadOnlyDictionary<int, float> ?? throw new ArgumentException($"AdditionalProperties['{LogitBiasKey}'] must be a dictionary from token id (int) to bias (float)", "options") };
        if (extra.TryGetValue(StructuredOutputKey, out var value))
            sampling = sampling with { StructuredOutput = value as StructuredOutput ?? throw new ArgumentException($"AdditionalProperties['{StructuredOutputKey}'] must be an Estuary.Engine.StructuredOutput", "options") };
        return sampling;
    }

    // More chat-template variables (vLLM's chat_template_kwargs, e.g. Qwen3's enable_thinking) as JSON text, validated.
    private static string? TemplateKwargs(AdditionalPropertiesDictionary? extra)
    {
        if (extra is null || !extra.TryGetValue(ChatTemplateKwargsKey, out var value) || value is null) return null;
        if (value is not (IReadOnlyDictionary<string, object?> or IDictionary<string, object?> or JsonElement { ValueKind: JsonValueKind.Object }))
            throw new ArgumentException($"AdditionalProperties['{ChatTemplateKwargsKey}'] must be a dictionary from variable name to value (got {value.GetType().Name})", "options");
        var json = JsonSerializer.Serialize(value, AIJsonUtilities.DefaultOptions);
        try
        {
            Estuary.Tokenization.Templates.ChatTemplate.TemplateKwargs(json);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"AdditionalProperties['{ChatTemplateKwargsKey}']: {e.Message}", "options", e);
        }
        return json == "{}" ? null : json;
    }

    // ChatOptions.Reasoning.Effort None turns thinking off where the model's template can: Qwen3's reads enable_thinking (set
    // here unless the caller's chat_template_kwargs set it). DeepSeek-R1's always thinks, so None cannot be honoured there.
    // Other efforts leave thinking on: a local model has no effort setting (how long it thinks is its own).
    private static string? WithThinking(string? templateKwargs, ReasoningOptions? wanted, ReasoningFormat? reasoning, IChatFormat chatFormat)
    {
        if (wanted?.Effort != ReasoningEffort.None || reasoning is null) return templateKwargs;
        if (reasoning.Parser != ReasoningParser.Qwen3 || chatFormat is not TemplateChatFormat)
            throw new NotSupportedException($"ChatOptions.Reasoning.Effort None: this model's reasoning ({ReasoningFormat.Name(reasoning.Parser)}) cannot be turned off");
        var kwargs = templateKwargs is null ? new JsonObject() : JsonNode.Parse(templateKwargs)!.AsObject();
        kwargs.TryAdd("enable_thinking", false);
        return kwargs.ToJsonString();
    }

    private static string? ToolPrompt(AdditionalPropertiesDictionary? extra) =>
        extra is null || !extra.TryGetValue(ToolPromptKey, out var value) ? null
            : value as string ?? throw new ArgumentException($"AdditionalProperties['{ToolPromptKey}'] must be a string", "options");

    private static T Get<T>(AdditionalPropertiesDictionary extra, string key) =>
        extra.TryGetValue<T>(key, out var value) && value is not null ? value
            : throw new ArgumentException($"AdditionalProperties['{key}'] must be a {typeof(T).Name} (got {extra[key]?.GetType().Name ?? "null"})", "options");

    private static StructuredOutput? ResponseFormat(ChatResponseFormat? format) => format switch
    {
        null or ChatResponseFormatText => null,
        ChatResponseFormatJson { Schema: { } schema } => StructuredOutput.JsonSchema(schema.GetRawText()),
        ChatResponseFormatJson => StructuredOutput.JsonObject(),
        _ => throw new NotSupportedException($"ChatOptions.ResponseFormat of type {format.GetType().Name} is not supported"),
    };

    // The mode (null: the tools are not used), the named function, the tools and their OpenAI-style JSON for chat templates.
    private static (ToolCallMode? Mode, string? Function, List<ToolDefinition> Tools, string Json) Tools(ChatOptions options)
    {
        if (options.Tools is not { Count: > 0 })
        {
            if (options.ToolMode is RequiredChatToolMode)
                throw new ArgumentException("ChatOptions.ToolMode requires a function call but ChatOptions.Tools is empty", "options");
            return (null, null, [], "");
        }
        var tools = new List<ToolDefinition>();
        var json = new JsonArray();
        foreach (var tool in options.Tools)
        {
            if (tool is not AIFunctionDeclaration function)
                throw new NotSupportedException($"the tool '{tool.Name}' ({tool.GetType().Name}) is not a function; only functions can be called by a local model");
            if (!ToolDefinition.IsValidName(function.Name))
                throw new ArgumentException($"the function name '{function.Name}' must be 1–{ToolDefinition.MaxNameLength} letters, digits, '_' or '-'", "options");
            var parameters = JsonNode.Parse(function.JsonSchema.GetRawText()) as JsonObject
                ?? throw new ArgumentException($"the function '{function.Name}' has a parameter schema that is not a JSON object", "options");
            tools.Add(new ToolDefinition(function.Name, parameters));
            json.Add(new JsonObject
            {
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = function.Name, ["description"] = function.Description, ["parameters"] = parameters.DeepClone() },
            });
        }
        return options.ToolMode switch
        {
            RequiredChatToolMode { RequiredFunctionName: { } name } => (ToolCallMode.Named, name, tools, json.ToJsonString()),
            RequiredChatToolMode => (ToolCallMode.Required, null, tools, json.ToJsonString()),
            NoneChatToolMode => (ToolCallMode.None, null, tools, json.ToJsonString()),
            _ => (ToolCallMode.Auto, null, tools, json.ToJsonString()),
        };
    }
}
