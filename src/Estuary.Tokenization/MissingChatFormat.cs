// The chat format of a byte-level (tokenizer.json) model folder without a chat template: there is no format to guess (Llama 2's
// [INST] wrapping would be wrong for Llama 3 base models), so every chat prompt is refused, naming the fix, as vLLM and
// transformers refuse chat without a template. Plain completions are unaffected.
namespace Estuary.Tokenization;

/// <summary>Refuses chat prompts for a folder that has no chat template.</summary>
public sealed class MissingChatFormat(string modelDir) : IChatFormat
{
    /// <inheritdoc />
    public string Name => "none";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">always: the folder has no chat template.</exception>
    public int[] BuildPrompt(IReadOnlyList<ChatMessage> messages, int maxNewTokens) =>
        throw new ArgumentException($"the model in '{modelDir}' has no chat template (chat_template.jinja, chat_template.json or " +
            "tokenizer_config.json's chat_template): give one with --chat-template, or use plain completions", nameof(messages));
}
