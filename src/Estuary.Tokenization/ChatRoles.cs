// Role names shared by the chat formats and their validation. Invariant: roles are compared ordinally, lower case.
namespace Estuary.Tokenization;

/// <summary>The chat roles <see cref="ChatMessage"/> takes.</summary>
public static class ChatRoles
{
    /// <summary>Instructions, first message only.</summary>
    public const string System = "system";
    /// <summary>The user's turn.</summary>
    public const string User = "user";
    /// <summary>The model's turn.</summary>
    public const string Assistant = "assistant";
    /// <summary>A function's result (chat templates only).</summary>
    public const string Tool = "tool";

    /// <summary>
    /// Throws a clear ArgumentException for an empty list, a null message or an unknown role; tool turns ("tool" messages,
    /// assistant tool calls) only when <paramref name="allowTools"/> (chat templates; the built-in formats have no tool turns).
    /// </summary>
    internal static void Validate(IReadOnlyList<ChatMessage> messages, string paramName, bool allowTools = false)
    {
        ArgumentNullException.ThrowIfNull(messages, paramName);
        if (messages.Count == 0) throw new ArgumentException("a chat prompt needs at least one message", paramName);
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i] ?? throw new ArgumentException($"message {i} is null", paramName);
            if (m.Content is null) throw new ArgumentException($"message {i} has null content", paramName);
            if (m.Role == Tool || m.ToolCalls is { Count: > 0 })
            {
                if (!allowTools)
                    throw new ArgumentException($"message {i} is a tool {(m.Role == Tool ? "result" : "call")}; this model's built-in chat format has no tool turns " +
                        "(write them as text first with ToolConversation.AsPlainTurns, as the server does, or use a chat template that renders them)", paramName);
            }
            else if (m.Role is not (System or User or Assistant))
                throw new ArgumentException($"message {i} has unknown role '{m.Role}'; valid roles are system, user, assistant, tool", paramName);
            if (m.ToolCalls is { Count: > 0 } && m.Role != Assistant)
                throw new ArgumentException($"message {i}: only assistant messages make tool calls", paramName);
            if (m.Role == System && i != 0)
                throw new ArgumentException($"message {i}: a system message is only allowed as the first message", paramName);
        }
    }
}
