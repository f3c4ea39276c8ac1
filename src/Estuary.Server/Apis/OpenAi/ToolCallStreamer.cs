// Turns the streamed text of a "required" tool-call array ([{"name": N, "parameters": P}, …], as the grammar forces it:
// name first, then parameters) into OpenAI tool-call deltas as it arrives: a call's id and name once its name is complete,
// then its arguments piece by piece, exactly the characters of P (the text ToToolCalls reads with GetRawText).
// Invariant: for any split of the text into pieces, the deltas add up to the calls of the whole text.
using System.Text;
using System.Text.RegularExpressions;
using Estuary.Engine.Tools;

namespace Estuary.Server.Apis.OpenAi;

internal sealed partial class ToolCallStreamer(Func<string>? newCallId = null)
{
    private readonly Func<string> _newCallId = newCallId ?? (() => ToolCalls.NewCallId());
    private enum Place { BeforeArray, BetweenCalls, InKeys, InValue, AfterValue, Done }

    private readonly StringBuilder _keys = new();
    private Place _place = Place.BeforeArray;
    private int _index = -1;
    private bool _named;
    // Inside the parameters value: nesting depth, string and escape state; a scalar ends at a delimiter.
    private int _depth;
    private bool _inString, _escaped, _scalar;

    /// <summary>Whether the array was closed (every call complete).</summary>
    public bool IsComplete => _place == Place.Done;

    /// <summary>How many calls were closed so far.</summary>
    public int ClosedCalls { get; private set; }

    /// <summary>The deltas that <paramref name="text"/>, the next piece of the output, completes or extends.</summary>
    public List<ToolCallDelta> Add(string text)
    {
        var deltas = new List<ToolCallDelta>();
        var arguments = new StringBuilder();
        foreach (char c in text) Step(c, deltas, arguments);
        FlushArguments(deltas, arguments);
        return deltas;
    }

    private void Step(char c, List<ToolCallDelta> deltas, StringBuilder arguments)
    {
        switch (_place)
        {
            case Place.BeforeArray:
                if (c == '[') _place = Place.BetweenCalls;
                break;
            case Place.BetweenCalls:
                if (c == '{')
                {
                    FlushArguments(deltas, arguments); // the previous call's last pieces keep its index
                    _place = Place.InKeys;
                    _index++;
                    _named = false;
                    _keys.Clear();
                }
                else if (c == ']') _place = Place.Done;
                break;
            case Place.InKeys:
                if (_keys.Length > 0 && !char.IsWhiteSpace(c) && ParametersKey().IsMatch(_keys.ToString()))
                {
                    _place = Place.InValue;
                    (_depth, _inString, _escaped, _scalar) = (0, false, false, c is not ('{' or '[' or '"'));
                    Step(c, deltas, arguments);
                    return;
                }
                _keys.Append(c);
                if (!_named && NameValue().Match(_keys.ToString()) is { Success: true } name)
                {
                    _named = true;
                    FlushArguments(deltas, arguments);
                    deltas.Add(new ToolCallDelta(_index, _newCallId(), "function", new FunctionCallDelta(name.Groups[1].Value, "")));
                }
                break;
            case Place.InValue:
                if (_scalar && !_inString && (c is ',' or '}' || char.IsWhiteSpace(c)))
                {
                    _place = Place.AfterValue;
                    Step(c, deltas, arguments);
                    return;
                }
                arguments.Append(c);
                if (_inString)
                {
                    if (_escaped) _escaped = false;
                    else if (c == '\\') _escaped = true;
                    else if (c == '"') _inString = false;
                }
                else if (c == '"') _inString = true;
                else if (c is '{' or '[') _depth++;
                else if (c is '}' or ']' && --_depth == 0) _place = Place.AfterValue;
                if (_place == Place.InValue && !_scalar && _depth == 0 && !_inString && arguments.Length > 0 && c == '"') _place = Place.AfterValue;
                break;
            case Place.AfterValue:
                if (c == '}')
                {
                    _place = Place.BetweenCalls;
                    ClosedCalls++;
                }
                break;
        }
    }

    private void FlushArguments(List<ToolCallDelta> deltas, StringBuilder arguments)
    {
        if (arguments.Length == 0) return;
        deltas.Add(new ToolCallDelta(_index, null, null, new FunctionCallDelta(null, arguments.ToString())));
        arguments.Clear();
    }

    [GeneratedRegex("^\\s*\"name\"\\s*:\\s*\"([A-Za-z0-9_-]+)\"")]
    private static partial Regex NameValue();

    [GeneratedRegex(",\\s*\"parameters\"\\s*:\\s*$")]
    private static partial Regex ParametersKey();
}
