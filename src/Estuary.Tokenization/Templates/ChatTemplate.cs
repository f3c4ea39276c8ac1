// A Hugging Face chat template (tokenizer_config.json "chat_template"): parsed once, rendered per conversation with the
// variables apply_chat_template passes (messages, tools, documents, bos_token, eos_token, add_generation_prompt) and the
// globals of its environment (raise_exception, strftime_now).
// Invariant: parsing rejects constructs outside the supported Jinja subset, so a template that loads renders or names its error.
namespace Estuary.Tokenization.Templates;

/// <summary>A parsed chat template.</summary>
public sealed class ChatTemplate
{
    private readonly List<Node> _nodes;

    private ChatTemplate(List<Node> nodes, string source)
    {
        _nodes = nodes;
        Source = source;
    }

    /// <summary>The template text.</summary>
    public string Source { get; }

    /// <summary>Parses <paramref name="source"/> with Jinja's trim_blocks and lstrip_blocks on, as Hugging Face does.</summary>
    /// <exception cref="TemplateException">the template uses something outside the supported subset, or is malformed.</exception>
    public static ChatTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new ChatTemplate(TemplateParser.Parse(source), source);
    }

    /// <summary>Renders the conversation as <c>apply_chat_template(messages, tokenize=False)</c> would.</summary>
    /// <exception cref="TemplateException">the template raised an error (its own message) or failed on a value.</exception>
    /// <remarks>
    /// <paramref name="toolsJson"/> (a JSON array of tool definitions) becomes the <c>tools</c> variable, which is None without
    /// tools (transformers always passes it, and <c>documents</c> as None). A message's tool calls become <c>tool_calls</c>
    /// entries <c>{id, type: "function", function: {name, arguments}}</c> with the arguments parsed from their JSON text (as
    /// vLLM hands them to templates), and a tool result carries <c>tool_call_id</c>. <c>strftime_now</c> reads the local clock.
    /// </remarks>
    public string Render(IReadOnlyList<ChatMessage> messages, string bosToken, string eosToken, bool addGenerationPrompt = true, string? toolsJson = null,
        string? templateKwargsJson = null) =>
        Render(messages, bosToken, eosToken, addGenerationPrompt, toolsJson, TemplateKwargs(templateKwargsJson), TimeProvider.System);

    /// <summary>The variables a request's chat_template_kwargs (a JSON object's text, as vLLM takes it) adds, e.g. Qwen3's
    /// enable_thinking; null for none.</summary>
    /// <exception cref="ArgumentException">not a JSON object, or a key the request sets otherwise (messages, tools, documents,
    /// add_generation_prompt, bos_token, eos_token).</exception>
    public static IReadOnlyDictionary<string, object?>? TemplateKwargs(string? json)
    {
        if (json is null) return null;
        if (FromJson(json) is not Dictionary<string, object?> kwargs)
            throw new ArgumentException("chat_template_kwargs must be a JSON object");
        foreach (var reserved in (string[])["messages", "tools", "documents", "add_generation_prompt", "bos_token", "eos_token"])
            if (kwargs.ContainsKey(reserved))
                throw new ArgumentException($"chat_template_kwargs may not set '{reserved}' (the request and the model set it)");
        return kwargs;
    }

    /// <summary>As the public Render, with more template variables (apply_chat_template's keyword arguments, such as
    /// date_string) and the clock strftime_now reads.</summary>
    internal string Render(IReadOnlyList<ChatMessage> messages, string bosToken, string eosToken, bool addGenerationPrompt, string? toolsJson,
        IReadOnlyDictionary<string, object?>? extraVariables, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var variables = new Dictionary<string, object?>
        {
            ["messages"] = messages.Select(m => (object?)Message(m)).ToList(),
            ["tools"] = toolsJson is null ? null : FromJson(toolsJson),
            ["documents"] = null,
            ["add_generation_prompt"] = addGenerationPrompt,
            ["bos_token"] = bosToken,
            ["eos_token"] = eosToken,
        };
        if (extraVariables is not null) foreach (var kv in extraVariables) variables[kv.Key] = kv.Value;
        return Render(variables, clock);
    }

    private static Dictionary<string, object?> Message(ChatMessage m)
    {
        var message = new Dictionary<string, object?> { ["role"] = m.Role, ["content"] = m.Content };
        if (m.ToolCalls is { } calls) // an empty list stays an empty list (defined, false), as vLLM passes it
        {
            message["tool_calls"] = calls.Select(c => (object?)new Dictionary<string, object?>
            {
                ["id"] = c.Id,
                ["type"] = "function",
                ["function"] = new Dictionary<string, object?> { ["name"] = c.Name, ["arguments"] = ArgumentsValue(c.Arguments) },
            }).ToList();
        }
        if (m.ToolCallId is not null) message["tool_call_id"] = m.ToolCallId;
        if (m.Reasoning is not null) message["reasoning"] = message["reasoning_content"] = m.Reasoning;
        return message;
    }

    // Arguments that are not JSON stay text, so the template still sees what the client sent.
    private static object? ArgumentsValue(string arguments)
    {
        try
        {
            return FromJson(arguments);
        }
        catch (System.Text.Json.JsonException)
        {
            return arguments;
        }
    }

    /// <summary>A JSON text as template values: objects, lists, strings, longs or doubles, booleans and null.</summary>
    internal static object? FromJson(string json)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        try
        {
            return FromJson(doc.RootElement);
        }
        catch (InvalidOperationException e)
        {
            throw new ArgumentException($"a tool definition or call holds text that is not valid Unicode ({e.Message})", nameof(json), e);
        }
    }

    // Later duplicates of a key win, as Python's json.loads does.
    private static Dictionary<string, object?> ObjectFromJson(System.Text.Json.JsonElement e)
    {
        var result = new Dictionary<string, object?>();
        foreach (var p in e.EnumerateObject()) result[p.Name] = FromJson(p.Value);
        return result;
    }

    private static object? FromJson(System.Text.Json.JsonElement e) => e.ValueKind switch
    {
        System.Text.Json.JsonValueKind.Object => ObjectFromJson(e),
        System.Text.Json.JsonValueKind.Array => e.EnumerateArray().Select(FromJson).ToList(),
        System.Text.Json.JsonValueKind.String => e.GetString(),
        System.Text.Json.JsonValueKind.Number => e.TryGetInt64(out long l) ? (object?)l : e.GetDouble(), // boxed apart: a ternary would widen the long
        System.Text.Json.JsonValueKind.True => true,
        System.Text.Json.JsonValueKind.False => false,
        _ => null,
    };

    /// <summary>Renders with arbitrary variables (strings, longs, doubles, bools, null, lists and string-keyed dictionaries);
    /// strftime_now reads <paramref name="clock"/> (the system clock when null).</summary>
    internal string Render(Dictionary<string, object?> variables, TimeProvider? clock = null) =>
        TemplateEvaluator.Render(_nodes, variables, clock ?? TimeProvider.System);
}
