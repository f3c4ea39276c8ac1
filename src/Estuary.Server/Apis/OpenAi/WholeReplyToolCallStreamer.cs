// Streams a reply under tool_choice "auto" for the formats whose calls are the whole reply (Llama 3's JSON objects, pythonic
// lists): while the reply so far may still be calls (whitespace, a beginning of the format's tag, or it begins with the
// calls' first character) it is held; once it cannot be, everything goes out as content as it comes; a held reply is read
// when it ends, as calls or, when it is not calls, as content whole.
// Invariant: for any split of the reply into pieces, the content and calls streamed equal the format's reading of the whole
// reply (its calls, or the whole reply as content).
using System.Text;

namespace Estuary.Server.Apis.OpenAi;

internal sealed class WholeReplyToolCallStreamer(Func<string, bool> mayBeCalls,
    Func<string, (string Content, List<(string Name, string Arguments)> Calls)?> parse, Func<string> newCallId) : IModelFormatToolCallStreamer
{
    // Longer than every format's tag: a held beginning this long, after whitespace, that may be calls begins with the calls'
    // first character or the whole tag, and stays a possible beginning whatever follows.
    private const int SettledLength = 32;

    private readonly StringBuilder _held = new();
    private bool _isContent;  // decided: the reply is content
    private bool _settled;    // the held beginning may be calls whatever follows

    /// <summary>Calls sent so far.</summary>
    public int CallCount { get; private set; }

    /// <summary>
    /// The content and whole calls that <paramref name="text"/>, the next piece of the reply, lets out; at the end of the
    /// reply (<paramref name="last"/>) a held reply is read.
    /// </summary>
    public (string Content, List<ToolCallDelta> Calls) Add(string text, bool last)
    {
        var calls = new List<ToolCallDelta>();
        if (_isContent) return (text, calls);
        _held.Append(text);
        if (!_settled)
        {
            var soFar = _held.ToString();
            if (!mayBeCalls(soFar))
            {
                _isContent = true;
                _held.Clear();
                return (soFar, calls);
            }
            _settled = soFar.AsSpan().TrimStart().Length > SettledLength;
        }
        if (!last) return ("", calls);
        var reply = _held.ToString();
        _held.Clear();
        if (parse(reply) is not { } parsed) return (reply, calls);
        foreach (var (name, arguments) in parsed.Calls)
            calls.Add(new ToolCallDelta(CallCount++, newCallId(), "function", new FunctionCallDelta(name, arguments)));
        return (parsed.Content, calls);
    }
}
