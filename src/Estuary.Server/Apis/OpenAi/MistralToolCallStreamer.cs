// Streams a reply under tool_choice "auto" with the Mistral tool-call parser: text goes out as content until "[TOOL_CALLS]"
// (a piece that could still become the tag is held back); what follows is the calls' JSON array, held until the reply ends
// and then sent as whole calls, or, when it is not such an array, as content from the tag on.
// Invariant: for any split of the reply into pieces, the content and calls streamed equal MistralToolCalls.TryParse of the
// whole reply (its content and calls, or the whole reply as content).
using System.Text;
using Estuary.Engine.Tools;

namespace Estuary.Server.Apis.OpenAi;

internal sealed class MistralToolCallStreamer(Func<string>? newCallId = null) : IModelFormatToolCallStreamer
{
    private readonly Func<string> _newCallId = newCallId ?? (() => ToolCalls.NewCallId(ToolCallIdStyle.NineAlphanumeric));
    private readonly StringBuilder _held = new(); // a possible tag prefix, or everything from the tag on
    private bool _inCalls;

    /// <summary>Calls sent so far.</summary>
    public int CallCount { get; private set; }

    /// <summary>
    /// The content and whole calls that <paramref name="text"/>, the next piece of the reply, lets out; at the end of the
    /// reply (<paramref name="last"/>) the held calls are read.
    /// </summary>
    public (string Content, List<ToolCallDelta> Calls) Add(string text, bool last)
    {
        var calls = new List<ToolCallDelta>();
        _held.Append(text);
        var content = "";
        if (!_inCalls)
        {
            var held = _held.ToString();
            int tag = held.IndexOf(MistralToolCalls.Tag, StringComparison.Ordinal);
            if (tag >= 0)
            {
                content = held[..tag];
                _held.Remove(0, tag);
                _inCalls = true;
            }
            else
            {
                int keep = last ? 0 : TagPrefixLength(held);
                content = held[..^keep];
                _held.Remove(0, held.Length - keep);
                return (content, calls);
            }
        }
        if (!last) return (content, calls);
        var rest = _held.ToString();
        _held.Clear();
        if (MistralToolCalls.TryParse(rest) is not { } parsed) return (content + rest, calls);
        foreach (var (name, arguments) in parsed.Calls)
            calls.Add(new ToolCallDelta(CallCount++, _newCallId(), "function", new FunctionCallDelta(name, arguments)));
        return (content, calls);
    }

    // The length of the longest end of text that is a beginning of "[TOOL_CALLS]".
    private static int TagPrefixLength(string text)
    {
        for (int n = Math.Min(text.Length, MistralToolCalls.Tag.Length - 1); n > 0; n--)
            if (string.CompareOrdinal(text, text.Length - n, MistralToolCalls.Tag, 0, n) == 0) return n;
        return 0;
    }
}
