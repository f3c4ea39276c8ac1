// Microsoft.Extensions.AI chat messages into Estuary's chat turns: text, the assistant's function calls and reasoning, and
// function results (each its own "tool" turn, as OpenAI's API carries them).
// Invariant: content a text model cannot read (images, audio, files) is refused by name, never silently dropped.
using System.Text.Json;
using Estuary.Tokenization;
using Microsoft.Extensions.AI;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using ChatMessage = Estuary.Tokenization.ChatMessage;

namespace Estuary.AI;

internal static class ChatMessageConversion
{
    /// <summary>
    /// The conversation as chat turns, with <paramref name="instructions"/> (ChatOptions.Instructions) as the system message, or
    /// joined before the conversation's own by a blank line.
    /// </summary>
    /// <exception cref="ArgumentException">a role other than system, user, assistant or tool, or content other than text, function calls and results.</exception>
    public static List<ChatMessage> ToTurns(IEnumerable<AiChatMessage> messages, string? instructions)
    {
        var turns = new List<ChatMessage>();
        int index = 0;
        foreach (var message in messages)
        {
            var role = RoleName(message.Role, index);
            var text = new System.Text.StringBuilder();
            System.Text.StringBuilder? reasoning = null;
            var calls = new List<ChatToolCall>();
            var results = new List<ChatMessage>();
            foreach (var content in message.Contents)
            {
                switch (content)
                {
                    case TextContent t:
                        text.Append(t.Text);
                        break;
                    case FunctionCallContent call:
                        calls.Add(new ChatToolCall(call.CallId, call.Name, JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>(), AIJsonUtilities.DefaultOptions)));
                        break;
                    case FunctionResultContent result:
                        results.Add(new ChatMessage(ChatRoles.Tool, ResultText(result.Result)) { ToolCallId = result.CallId });
                        break;
                    case TextReasoningContent r when role == ChatRoles.Assistant:
                        (reasoning ??= new()).Append(r.Text); // the template decides whether to show it (Qwen3's keeps the latest)
                        break;
                    case UsageContent or TextReasoningContent:
                        break; // bookkeeping of an earlier response
                    default:
                        throw new ArgumentException($"messages[{index}] holds {content.GetType().Name}; this model reads text, function calls and function results only", nameof(messages));
                }
            }
            if (calls.Count > 0 && role != ChatRoles.Assistant)
                throw new ArgumentException($"messages[{index}] holds function calls but its role is '{role}'; only the assistant calls functions", nameof(messages));
            if (results.Count > 0)
            {
                if (text.Length > 0 || calls.Count > 0)
                    throw new ArgumentException($"messages[{index}] mixes function results with other content; send results in a message of their own", nameof(messages));
                turns.AddRange(results);
            }
            else
            {
                turns.Add(new ChatMessage(role, text.ToString()) { ToolCalls = calls.Count > 0 ? calls : null, Reasoning = reasoning?.ToString() });
            }
            index++;
        }
        if (!string.IsNullOrEmpty(instructions))
        {
            if (turns.Count > 0 && turns[0].Role == ChatRoles.System)
                turns[0] = turns[0] with { Content = instructions + "\n\n" + turns[0].Content };
            else turns.Insert(0, new ChatMessage(ChatRoles.System, instructions));
        }
        return turns;
    }

    private static string RoleName(ChatRole role, int index)
    {
        if (role == ChatRole.System) return ChatRoles.System;
        if (role == ChatRole.User) return ChatRoles.User;
        if (role == ChatRole.Assistant) return ChatRoles.Assistant;
        if (role == ChatRole.Tool) return ChatRoles.Tool;
        throw new ArgumentException($"messages[{index}] has the role '{role}'; the roles are system, user, assistant and tool", "messages");
    }

    // A function's result as the text the model reads: strings as they are, anything else as JSON.
    private static string ResultText(object? result) => result switch
    {
        null => "",
        string s => s,
        JsonElement e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText(),
        _ => JsonSerializer.Serialize(result, AIJsonUtilities.DefaultOptions),
    };
}
