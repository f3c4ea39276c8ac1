// Streams a reply under tool_choice "auto", which the grammar makes either free text or (when its first character other
// than whitespace is "[") an array of calls: leading whitespace is held until that character arrives, then the reply goes
// out as content as it comes, or as tool-call deltas through a ToolCallStreamer.
// Invariant: for any split of the text into pieces, the content pieces add up to the text when it is an answer, and the
// deltas to its calls when it is calls (then no content goes out).
using System.Text;
using Estuary.Engine.Tools;

namespace Estuary.Server.Apis.OpenAi;

internal sealed class AutoToolCallStreamer
{
    private readonly StringBuilder _held = new();
    private readonly ToolCallStreamer _calls = new();
    private bool? _isCalls;

    /// <summary>Whether the reply is an array of calls, once known.</summary>
    public bool IsCalls => _isCalls == true;

    /// <summary>Whether the reply is an array of calls that was closed.</summary>
    public bool IsCompleteCalls => _isCalls == true && _calls.IsComplete;

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
            _isCalls = held[start] == '[';
            _held.Clear();
            text = held;
        }
        return _isCalls.Value ? ("", _calls.Add(text)) : (text, []);
    }
}
