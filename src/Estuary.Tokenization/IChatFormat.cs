// Contract between the engine and a model family's chat template: messages in, prompt token ids out.
namespace Estuary.Tokenization;

/// <summary>Builds the prompt token ids of a conversation the way a model family's reference code does.</summary>
public interface IChatFormat
{
    /// <summary>Short name of the format ("baichuan2", "llama2").</summary>
    string Name { get; }

    /// <summary>
    /// Token ids to feed the model so that it answers as the assistant. <paramref name="maxNewTokens"/> is the
    /// generation budget; formats that truncate history use it to leave room for the answer.
    /// </summary>
    /// <exception cref="ArgumentException">the list is empty, a role is unknown, or the order of roles is invalid.</exception>
    int[] BuildPrompt(IReadOnlyList<ChatMessage> messages, int maxNewTokens);
}
