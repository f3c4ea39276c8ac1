// The chat format a model folder's tokenizer_config.json "chat_template" defines, as vLLM and transformers apply it: the
// conversation rendered with add_generation_prompt, then encoded with the special tokens written in the text read as such.
// Invariant: role rules are the template's own (its raise_exception message becomes the error); only roles are checked here.
using Estuary.Tokenization.Templates;

namespace Estuary.Tokenization;

/// <summary>A Hugging Face chat template over a SentencePiece tokenizer.</summary>
public sealed class TemplateChatFormat : IChatFormat
{
    private readonly TextTokenizer _tokenizer;

    /// <summary>Creates the format; <paramref name="bosToken"/> and <paramref name="eosToken"/> are the texts the template sees;
    /// <paramref name="legacy"/> is tokenizer_config.json's "legacy" (see <see cref="TextTokenizer.EncodeWithSpecialTokens"/>).</summary>
    public TemplateChatFormat(TextTokenizer tokenizer, ChatTemplate template, string bosToken, string eosToken, bool legacy = true)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(template);
        _tokenizer = tokenizer;
        Template = template;
        BosToken = bosToken;
        EosToken = eosToken;
        Legacy = legacy;
    }

    /// <summary>Whether text after a special token gets the dummy-prefix space.</summary>
    public bool Legacy { get; }

    /// <inheritdoc/>
    public string Name => "template";

    /// <summary>The parsed template.</summary>
    public ChatTemplate Template { get; }

    /// <summary>The text of bos_token in the template.</summary>
    public string BosToken { get; }

    /// <summary>The text of eos_token in the template.</summary>
    public string EosToken { get; }

    /// <summary>
    /// The prompt as text, before tokenization. Without <paramref name="addGenerationPrompt"/> the template does not open the
    /// assistant's turn; with <paramref name="continueFinalMessage"/> the text ends right after the last message's content, so
    /// the model continues that (assistant) message, as transformers' continue_final_message does.
    /// </summary>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true, bool continueFinalMessage = false,
        string? toolsJson = null, string? templateKwargsJson = null)
    {
        ChatRoles.Validate(messages, nameof(messages), allowTools: true);
        if (continueFinalMessage && addGenerationPrompt)
            throw new ArgumentException("continue_final_message and add_generation_prompt cannot both be true", nameof(continueFinalMessage));
        var text = Template.Render(messages, BosToken, EosToken, addGenerationPrompt, toolsJson, templateKwargsJson);
        if (!continueFinalMessage) return text;
        var final = messages[^1].Content.Trim();
        int at = final.Length == 0 ? -1 : text.LastIndexOf(final, StringComparison.Ordinal);
        if (at < 0) throw new ArgumentException("continue_final_message: the chat template does not write the last message's content", nameof(messages));
        return text[..(at + final.Length)];
    }

    /// <inheritdoc/>
    /// <remarks>Templates do not truncate; <paramref name="maxNewTokens"/> is not used and the caller checks the context length.</remarks>
    public int[] BuildPrompt(IReadOnlyList<ChatMessage> messages, int maxNewTokens) => BuildPrompt(messages, true, false);

    /// <summary>
    /// The prompt's ids with transformers' add_generation_prompt and continue_final_message choices; <paramref name="toolsJson"/>
    /// (a JSON array of OpenAI tool definitions) becomes the template's <c>tools</c> variable, and the members of
    /// <paramref name="templateKwargsJson"/> (vLLM's chat_template_kwargs) more variables.
    /// </summary>
    public int[] BuildPrompt(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, bool continueFinalMessage, string? toolsJson = null,
        string? templateKwargsJson = null) =>
        _tokenizer.EncodeWithSpecialTokens(Render(messages, addGenerationPrompt, continueFinalMessage, toolsJson, templateKwargsJson), Legacy);
}
