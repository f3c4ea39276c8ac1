// One chat turn handed to an IChatFormat. Invariant: none here (plain data); formats validate Role and Content.
namespace Estuary.Tokenization;

/// <summary>A chat message; <paramref name="Role"/> is "system", "user", "assistant" or "tool".</summary>
/// <param name="Role">Who speaks: "system" (first message only), "user", "assistant", or "tool" (a tool's result; chat templates only).</param>
/// <param name="Content">The message text.</param>
public sealed record ChatMessage(string Role, string Content)
{
    /// <summary>The tool calls an assistant turn made (OpenAI's tool_calls), or null.</summary>
    public IReadOnlyList<ChatToolCall>? ToolCalls { get; init; }

    /// <summary>For a "tool" message: the id of the call it answers.</summary>
    public string? ToolCallId { get; init; }

    /// <summary>
    /// For an assistant turn: the reasoning that came before its content (vLLM's <c>reasoning</c>, earlier
    /// <c>reasoning_content</c>), or null. Chat templates see it under both names (Qwen3's reads <c>reasoning_content</c>).
    /// </summary>
    public string? Reasoning { get; init; }
}

/// <summary>One function call made by the assistant: its id, the function's name and its arguments as JSON text.</summary>
public sealed record ChatToolCall(string Id, string Name, string Arguments);
