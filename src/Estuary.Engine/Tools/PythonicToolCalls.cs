// Tool calls written as Python, as Llama 3.2 and Llama 4 write them when their prompt asks for it: the whole reply is a list
// of calls with keyword arguments, [get_weather(city="Paris", days=3), now()], optionally between Llama 4's <|python_start|>
// and <|python_end|>, read as vLLM's "pythonic" tool-call parser reads it (no constraint: the model's own format).
// Invariant: a reply is either content alone or calls alone; it is calls only when, after leading whitespace, it is exactly
// such a list (argument values Python literals: strings, numbers, True/False/None, lists, dicts with string keys) — text
// before or after it, a positional argument or any other expression makes the whole reply content, so nothing is lost.
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Estuary.Engine.Tools;

/// <summary>Reads pythonic tool calls out of a reply.</summary>
public static class PythonicToolCalls
{
    /// <summary>Llama 4's token that may open the list.</summary>
    public const string StartTag = "<|python_start|>";

    /// <summary>Llama 4's token that may close it.</summary>
    public const string EndTag = "<|python_end|>";

    private static readonly JsonWriterOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Whether a reply that begins with <paramref name="replySoFar"/> may still be calls (it is empty or whitespace, a
    /// beginning of the start tag, or begins with "[" or the tag); when false, the whole reply is content.
    /// </summary>
    public static bool MayBeCalls(string replySoFar) => ModelFormatReply.MayBegin(replySoFar, StartTag, '[');

    /// <summary>
    /// The calls (name, arguments as a JSON object's text) when the whole finished reply is a list of calls, or null when it is
    /// content. The content of a calls reply is always empty.
    /// </summary>
    public static (string Content, List<(string Name, string Arguments)> Calls)? TryParse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var body = text.AsSpan().TrimStart();
        if (body.StartsWith(StartTag, StringComparison.Ordinal)) body = body[StartTag.Length..];
        body = body.TrimEnd();
        if (body.EndsWith(EndTag, StringComparison.Ordinal)) body = body[..^EndTag.Length];
        var reader = new PythonLiteralReader(body.ToString());
        if (!reader.Take('[')) return null;
        var calls = new List<(string, string)>();
        while (!reader.Take(']'))
        {
            if (Call(reader) is not { } call) return null;
            calls.Add(call);
            if (!reader.Take(',') && !(reader.Take(']') && Unread(reader))) return null;
        }
        reader.SkipSpace();
        return calls.Count > 0 && reader.AtEnd ? ("", calls) : null;
    }

    // name(key=value, …): the name, and the arguments as a JSON object.
    private static (string Name, string Arguments)? Call(PythonLiteralReader reader)
    {
        if (reader.Identifier() is not { } name || !reader.Take('(')) return null;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, s_json))
        {
            json.WriteStartObject();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            while (!reader.Take(')'))
            {
                // Keyword arguments only, each once (Python refuses a repeated keyword).
                if (reader.Identifier() is not { } key || !seen.Add(key) || !reader.Take('=')) return null;
                json.WritePropertyName(key);
                if (!reader.Value(json)) return null;
                if (!reader.Take(',') && !(reader.Take(')') && Unread(reader))) return null;
            }
            json.WriteEndObject();
        }
        return (name, Encoding.UTF8.GetString(buffer.ToArray()));
    }

    // A closing bracket just taken is given back, so the loop's own test takes it (no trailing comma).
    private static bool Unread(PythonLiteralReader reader)
    {
        reader.StepBack();
        return true;
    }
}
