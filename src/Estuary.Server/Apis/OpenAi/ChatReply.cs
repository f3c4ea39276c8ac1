// Reads a finished chat reply (the whole generated text) into the assistant message the APIs return: its reasoning (with a
// reasoning parser), its content, and its tool calls under the request's tool plan, with the finish reason they imply.
// Invariant: what ChatReplyStreamer streams for a reply adds up to what Read returns for it, when the reply is complete.
using Estuary.Engine.Reasoning;
using Estuary.Engine.Tools;

namespace Estuary.Server.Apis.OpenAi;

internal static class ChatReply
{
    /// <summary>
    /// The message for a finished reply. With a reasoning parser (<paramref name="startsInReasoning"/> not null), the reasoning
    /// is split off first (left out of the message when not <paramref name="includeReasoning"/>) and the rest is read as below;
    /// a reply whose reasoning never ended has no content and no calls, and empty content is null, as vLLM returns it.
    /// </summary>
    public static (ChatMessageOut Message, string Reason) Read(ToolPlan? tools, bool singleCall, string text, string reason,
        bool? startsInReasoning, bool includeReasoning)
    {
        if (startsInReasoning is not { } starts) return Content(tools, singleCall, text, reason);
        var splitter = new ReasoningSplitter(starts);
        var (reasoningText, content) = splitter.Add(text, last: true);
        var (message, finalReason) = splitter.ReasoningEnded ? Content(tools, singleCall, content, reason) : (new ChatMessageOut(null), reason);
        if (!splitter.HasReasoning) return (message, finalReason);
        return (message with { Content = message.Content is "" ? null : message.Content, Reasoning = includeReasoning ? reasoningText : null }, finalReason);
    }

    /// <summary>
    /// The message for a reply's content: plain text, a named function's call (finish reason as generated, as OpenAI reports a
    /// forced call), calls in the model's own format (a tool-call parser's: Hermes blocks, Mistral's [TOOL_CALLS] array, Llama 3
    /// JSON objects, a pythonic list), or the calls of a complete "required" or "auto" array (finish reason tool_calls). An array
    /// cut short (length, abort, a stop string) is not complete and is returned as text. (Streamed, the calls go out as they
    /// come, so a cut array ends with its partial calls and the finish reason it had.)
    /// </summary>
    private static (ChatMessageOut Message, string Reason) Content(ToolPlan? tools, bool singleCall, string text, string reason)
    {
        switch (tools?.Mode)
        {
            case ToolCallMode.Named:
                return (new ChatMessageOut(null, [new ToolCallOut(tools.NewCallId(), new FunctionCallOut(tools.FunctionName!, text))]), reason);
            case ToolCallMode.Auto when tools.Parser != ToolCallParser.Constrained:
                // vLLM's parsers: the text before the calls is the content (none when empty).
                if (ModelFormatToolCalls.TryParse(tools.Parser, text) is not { } found) return (new ChatMessageOut(text), reason);
                var foundCalls = found.Calls.Take(tools.Parallel ? int.MaxValue : 1).Select(c => new ToolCallOut(tools.NewCallId(), new FunctionCallOut(c.Name, c.Arguments))).ToList();
                return (new ChatMessageOut(found.Content.Length > 0 ? found.Content : null, foundCalls), reason == "stop" ? "tool_calls" : reason);
            case ToolCallMode.Required or ToolCallMode.Auto when reason == "stop" && ToolCalls.TryParseCalls(text, singleCall) is { } parsed:
                var calls = parsed.Select(c => new ToolCallOut(tools!.NewCallId(), new FunctionCallOut(c.Name, c.Arguments))).ToList();
                return (new ChatMessageOut(null, calls), "tool_calls");
            default:
                return (new ChatMessageOut(text), reason);
        }
    }
}
