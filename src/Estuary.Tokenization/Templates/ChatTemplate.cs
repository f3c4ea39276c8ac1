// A Hugging Face chat template (tokenizer_config.json "chat_template"): parsed once, rendered per conversation with the
// variables apply_chat_template passes (messages, bos_token, eos_token, add_generation_prompt, raise_exception).
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
    public string Render(IReadOnlyList<ChatMessage> messages, string bosToken, string eosToken, bool addGenerationPrompt = true)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages.Select(m => (object?)new Dictionary<string, object?> { ["role"] = m.Role, ["content"] = m.Content }).ToList();
        return Render(new Dictionary<string, object?>
        {
            ["messages"] = list,
            ["bos_token"] = bosToken,
            ["eos_token"] = eosToken,
            ["add_generation_prompt"] = addGenerationPrompt,
        });
    }

    /// <summary>Renders with arbitrary variables (strings, longs, doubles, bools, null, lists and string-keyed dictionaries).</summary>
    internal string Render(Dictionary<string, object?> variables) => TemplateEvaluator.Render(_nodes, variables);
}
