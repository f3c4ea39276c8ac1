// Streams a reply under tool_choice "auto", which the grammar makes either free text or (when its first character other
// than whitespace is "[", or "{" for one call as a bare object) calls: leading whitespace is held until that character
// arrives, then the reply goes out as content as it comes, or as tool-call deltas through a ToolCallStreamer.
// Invariant: for any split of the text into pieces, the content pieces add up to the text when it is an answer, and the
// deltas to its calls when it is calls (then no content goes out).
using System.Text;
using Estuary.Engine.Tools;

namespace Estuary.Server.Apis.OpenAi;

/// <summary>A streamer for one reply; <paramref name="singleCall"/>: a bare call object ("{") is calls too.</summary>
internal sealed class AutoToolCallStreamer(bool singleCall = false, Func<string>? newCallId = null)
{
    private readonly StringBuilder _held = new();
    private readonly ToolCallStreamer _calls = new(newCallId);
    private bool? _isCalls;
    private bool _bareObject;

    /// <summary>Whether the reply is calls, once known.</summary>
    public bool IsCalls => _isCalls == true;

    /// <summary>Whether the reply is calls that were closed (the array, or the bare object).</summary>
    public bool IsCompleteCalls => _isCalls == true && (_bareObject ? _calls.ClosedCalls == 1 : _calls.IsComplete);

    /// <summary>
    /// The content and the call deltas that <paramref name="text"/>, the next piece of the reply, lets out; at the end of the
    /// reply (<paramref name="last"/>), whitespace still held goes out as content.
    /// </summary>
    public (string Content, List<ToolCallDelta> Calls) Add(string text, bool last)
    {
        if (_isCalls is null)
        {
            _held.Append(text);
            var held = _held.ToString();
            int start = ToolCalls.FirstNonWhitespace(held);
            if (start < 0)
            {
                if (!last) return ("", []);
                _held.Clear();
                return (held, []);
            }
            _isCalls = ToolCalls.BeginsCalls(held[start], singleCall);
            _bareObject = held[start] == '{';
            _held.Clear();
            // A bare call object streams as the first call of an array.
            text = _isCalls.Value && _bareObject ? "[" + held : held;
        }
        return _isCalls.Value ? ("", _calls.Add(text)) : (text, []);
    }
}
