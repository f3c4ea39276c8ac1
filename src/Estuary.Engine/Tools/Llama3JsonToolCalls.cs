// Tool calls written as Llama 3.1, 3.2 and 3.3 write them for JSON-described tools (their chat templates ask for
// {"name": function name, "parameters": dictionary of argument name and its value}): the whole reply is one such object, or
// several separated by ";", optionally after the <|python_tag|> token, read as vLLM's "llama3_json" tool-call parser reads
// them (no constraint: the model's own format). "arguments" is read in place of "parameters" too; an object with other keys
// (an answer with a "name" field) is not a call.
// Invariant: a reply is either content alone or calls alone; it is calls only when, after leading whitespace (and the tag),
// it consists of such objects and nothing else, so text around them, or JSON that is not a call, leaves the whole reply
// content and nothing written is lost.
using System.Text.Json;

namespace Estuary.Engine.Tools;

/// <summary>Reads Llama 3 JSON tool calls out of a reply.</summary>
public static class Llama3JsonToolCalls
{
    /// <summary>The token that may begin the calls.</summary>
    public const string Tag = "<|python_tag|>";

    /// <summary>
    /// Whether a reply that begins with <paramref name="replySoFar"/> may still be calls (it is empty or whitespace, a
    /// beginning of the tag, or begins with "{" or the tag); when false, the whole reply is content.
    /// </summary>
    public static bool MayBeCalls(string replySoFar) => ModelFormatReply.MayBegin(replySoFar, Tag, '{');

    /// <summary>
    /// The calls (name, arguments as JSON text) when the whole finished reply is call objects separated by ";", or null when
    /// it is content. A call object has "name" and "parameters" (or "arguments"), and may have "type" (Llama 3.2 writes
    /// "type": "function"); an object with other keys is not a call. The content of a calls reply is always empty.
    /// </summary>
    public static (string Content, List<(string Name, string Arguments)> Calls)? TryParse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var body = text.AsSpan().TrimStart();
        if (body.StartsWith(Tag, StringComparison.Ordinal)) body = body[Tag.Length..];
        var calls = new List<(string, string)>();
        var rest = body.ToString();
        int at = 0;
        while (true)
        {
            at = SkipSpace(rest, at);
            if (at == rest.Length && calls.Count > 0) return ("", calls);
            if (at == rest.Length || rest[at] != '{' || ObjectEnd(rest, at) is not { } end) return null;
            if (Call(rest[at..end]) is not { } call) return null;
            calls.Add(call);
            at = SkipSpace(rest, end);
            if (at < rest.Length && rest[at] == ';') at++;       // the separator, or a final ";"
            else if (at < rest.Length) return null;              // anything else after a call
        }
    }

    // {"name": string, "parameters"|"arguments": object or JSON text, "type"?: …}, or null when it is not one.
    private static (string Name, string Arguments)? Call(string objectText)
    {
        try
        {
            using var json = JsonDocument.Parse(objectText);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String) return null;
            // An object with other keys is an answer that happens to have a "name" (a person, a city), not a call.
            foreach (var property in root.EnumerateObject())
                if (property.Name is not ("name" or "parameters" or "arguments" or "type")) return null;
            if (!root.TryGetProperty("arguments", out var arguments) && !root.TryGetProperty("parameters", out arguments)) return null;
            return arguments.ValueKind switch
            {
                JsonValueKind.Object => (name.GetString()!, arguments.GetRawText()),
                JsonValueKind.Null => (name.GetString()!, "{}"),
                // Some models write the arguments as a JSON string; OpenAI's field is that string.
                JsonValueKind.String => (name.GetString()!, arguments.GetString()!),
                _ => null,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // The index just past the JSON object that begins at start (braces counted outside strings), or null if it never closes.
    private static int? ObjectEnd(string text, int start)
    {
        int depth = 0;
        bool inString = false;
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (inString)
            {
                if (c == '\\') i++;
                else if (c == '"') inString = false;
            }
            else if (c == '"') inString = true;
            else if (c is '{' or '[') depth++;
            else if (c is '}' or ']' && --depth == 0) return i + 1;
        }
        return null;
    }

    private static int SkipSpace(string text, int at)
    {
        while (at < text.Length && char.IsWhiteSpace(text[at])) at++;
        return at;
    }
}
