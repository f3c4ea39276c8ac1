// Streams a reply under tool_choice "auto" with the Hermes tool-call parser: text goes out as content until "<tool_call>"
// (a piece that could still become that tag is held back), then each block goes out as one whole call once "</tool_call>"
// closes it; text between and after blocks is dropped, as vLLM's hermes parser drops it.
// Invariant: for any split of the reply into pieces, the content and calls streamed equal HermesToolCalls.TryParse of the
// whole reply, when every block is well formed; a malformed block goes out as content, from its tag on.
using System.Text;
using Estuary.Engine.Tools;

namespace Estuary.Server.Apis.OpenAi;

internal sealed class HermesToolCallStreamer(Func<string>? newCallId = null) : IModelFormatToolCallStreamer
{
    private readonly Func<string> _newCallId = newCallId ?? (() => ToolCalls.NewCallId());
    private readonly StringBuilder _pending = new();
    private bool _inCalls;
    private bool _failed;

    /// <summary>Calls sent so far.</summary>
    public int CallCount { get; private set; }

    /// <summary>
    /// The content and whole calls that <paramref name="text"/>, the next piece of the reply, lets out; at the end of the
    /// reply (<paramref name="last"/>) held text goes out, and an unclosed block is read as a call if it is one.
    /// </summary>
    public (string Content, List<ToolCallDelta> Calls) Add(string text, bool last)
    {
        var calls = new List<ToolCallDelta>();
        if (_failed) return (text, calls);
        _pending.Append(text);
        var content = new StringBuilder();
        while (true)
        {
            var pending = _pending.ToString();
            if (!_inCalls)
            {
                int open = pending.IndexOf(HermesToolCalls.Open, StringComparison.Ordinal);
                if (open < 0)
                {
                    // Everything but a tail that may still grow into the tag goes out now.
                    int keep = last ? 0 : TagPrefixLength(pending);
                    if (CallCount == 0) content.Append(pending, 0, pending.Length - keep);
                    _pending.Remove(0, pending.Length - keep);
                    break;
                }
                if (CallCount == 0) content.Append(pending, 0, open);
                _pending.Remove(0, open + HermesToolCalls.Open.Length);
                _inCalls = true;
                continue;
            }
            int close = pending.IndexOf(HermesToolCalls.Close, StringComparison.Ordinal);
            if (close < 0 && !last) break;
            var body = close < 0 ? pending : pending[..close];
            if (HermesToolCalls.ParseCall(body) is not { } call)
            {
                // Not a call: the block and the rest of the reply are content (a non-streamed reply is content whole).
                _failed = true;
                content.Append(HermesToolCalls.Open).Append(pending);
                _pending.Clear();
                break;
            }
            calls.Add(new ToolCallDelta(CallCount++, _newCallId(), "function", new FunctionCallDelta(call.Name, call.Arguments)));
            _pending.Remove(0, close < 0 ? pending.Length : close + HermesToolCalls.Close.Length);
            _inCalls = false;
            if (close < 0) break;
        }
        return (content.ToString(), calls);
    }

    // The length of the longest end of text that is a beginning of "<tool_call>".
    private static int TagPrefixLength(string text)
    {
        for (int n = Math.Min(text.Length, HermesToolCalls.Open.Length - 1); n > 0; n--)
            if (string.CompareOrdinal(text, text.Length - n, HermesToolCalls.Open, 0, n) == 0) return n;
        return 0;
    }
}
