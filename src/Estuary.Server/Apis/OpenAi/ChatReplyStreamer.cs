// Streams one chat reply: each engine output becomes the delta a chunk carries (reasoning, content, tool-call pieces) under
// the request's tool plan, and the finish reason, upgraded to tool_calls when the reply's calls are complete.
// Invariant: for a complete reply, the deltas add up to ChatReply.Read of the whole text (calls as pieces, in order).
using Estuary.Engine;
using Estuary.Engine.Reasoning;
using Estuary.Engine.Tools;
using Estuary.Server.Generation;

namespace Estuary.Server.Apis.OpenAi;

internal sealed class ChatReplyStreamer(ToolPlan? tools, bool singleCall, bool? startsInReasoning, bool includeReasoning)
{
    private readonly ReasoningSplitter? _splitter = startsInReasoning is { } starts ? new ReasoningSplitter(starts) : null;
    private string? _callId;                 // named tool: the call's id, once its first piece went out
    private ToolCallStreamer? _required;     // required tools: the array's calls as they complete
    private AutoToolCallStreamer? _auto;     // auto: text, or the array's calls
    private IModelFormatToolCallStreamer? _modelFormat; // auto with a tool-call parser: text and the calls in the model's format

    /// <summary>
    /// The delta for the next output <paramref name="o"/> of the reply (null: nothing to send yet, unless
    /// <paramref name="mustSend"/>, e.g. for its logprobs) and its finish reason once it finished.
    /// </summary>
    public (ChatDelta? Delta, string? Reason) Add(RequestOutput o, bool mustSend)
    {
        var reason = o.Finished ? ServedModel.ReasonName(o.FinishReason) : null;
        var (newReasoning, newText) = _splitter is null ? ("", o.NewText) : _splitter.Add(o.NewText, o.Finished);
        if (!includeReasoning) newReasoning = "";
        bool quiet = newReasoning.Length == 0 && !mustSend && !o.Finished; // nothing but (maybe) what the switch lets out
        if (quiet && newText.Length == 0) return (null, reason); // a tag still held back
        ChatDelta delta;
        switch (tools?.Mode)
        {
            case ToolCallMode.Named when newText.Length == 0 && _callId is null:
                delta = new ChatDelta(null, null); // still reasoning: the call has not begun
                break;
            case ToolCallMode.Named:
                // The arguments stream as they come, as vLLM streams a named function's call.
                bool first = _callId is null;
                _callId ??= tools.NewCallId();
                delta = new ChatDelta(null, null, [new ToolCallDelta(0, first ? _callId : null, first ? "function" : null,
                    new FunctionCallDelta(first ? tools.FunctionName : null, newText))]);
                break;
            case ToolCallMode.Required:
                // Each call goes out as soon as its name is complete, then its arguments as they come (as vLLM streams them).
                var pieces = (_required ??= new ToolCallStreamer(tools.NewCallId)).Add(newText);
                if (o.Finished && reason == "stop" && _required.IsComplete) reason = "tool_calls";
                if (pieces.Count == 0 && quiet) return (null, reason);
                delta = new ChatDelta(null, null, pieces.Count > 0 ? pieces : null);
                break;
            case ToolCallMode.Auto when tools.Parser != ToolCallParser.Constrained:
                _modelFormat ??= ModelFormatToolCalls.Streamer(tools.Parser, tools.NewCallId);
                var (text, found) = _modelFormat.Add(newText, o.Finished);
                // parallel_tool_calls false: the first call only (vLLM filters the parsed calls the same way).
                if (!tools.Parallel) found.RemoveAll(c => c.Index > 0);
                if (o.Finished && reason == "stop" && _modelFormat.CallCount > 0) reason = "tool_calls";
                if (text.Length == 0 && found.Count == 0 && quiet) return (null, reason);
                delta = new ChatDelta(null, text.Length > 0 || found.Count == 0 ? text : null, found.Count > 0 ? found : null);
                break;
            case ToolCallMode.Auto:
                _auto ??= new AutoToolCallStreamer(singleCall, tools.NewCallId);
                var (content, calls) = _auto.Add(newText, o.Finished);
                if (o.Finished && reason == "stop" && _auto.IsCompleteCalls) reason = "tool_calls";
                if (content.Length == 0 && calls.Count == 0 && quiet) return (null, reason);
                delta = _auto.IsCalls ? new ChatDelta(null, null, calls.Count > 0 ? calls : null) : new ChatDelta(null, content);
                break;
            default:
                delta = new ChatDelta(null, newText);
                break;
        }
        if (newReasoning.Length > 0) delta = delta with { Content = delta.Content is "" ? null : delta.Content, Reasoning = newReasoning };
        return (delta, reason);
    }
}
