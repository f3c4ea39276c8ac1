// Tool calls written as Hermes-format models write them (NousResearch Hermes 2/3, and the models trained on their format):
// <tool_call>{"name": …, "arguments": {…}}</tool_call> blocks after optional text, read from the finished reply as vLLM's
// "hermes" tool-call parser reads them (no constraint: the model's own format).
// Invariant: a reply is either content alone, or content before the first block plus the calls of every block; a block that
// is not a JSON object with a string "name" makes the whole reply content, so nothing the model wrote is lost.
using System.Text.Json;

namespace Estuary.Engine.Tools;

/// <summary>Reads Hermes-format tool calls out of a reply.</summary>
public static class HermesToolCalls
{
    /// <summary>The tag that opens a call.</summary>
    public const string Open = "<tool_call>";

    /// <summary>The tag that closes a call.</summary>
    public const string Close = "</tool_call>";

    /// <summary>
    /// Splits a finished reply into the content before its first call and the calls (name, arguments as JSON text; a call
    /// without "arguments" has "{}"), or returns null when the reply has no well-formed call (it is then content alone). An
    /// opened block that is never closed reads to the end of the reply, as a reply cut short by a stop token would end.
    /// </summary>
    public static (string Content, List<(string Name, string Arguments)> Calls)? TryParse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int first = text.IndexOf(Open, StringComparison.Ordinal);
        if (first < 0) return null;
        var calls = new List<(string, string)>();
        for (int at = first; at >= 0; at = text.IndexOf(Open, at, StringComparison.Ordinal))
        {
            int bodyStart = at + Open.Length;
            int end = text.IndexOf(Close, bodyStart, StringComparison.Ordinal);
            var body = end < 0 ? text[bodyStart..] : text[bodyStart..end];
            if (ParseCall(body) is not { } call) return null;
            calls.Add(call);
            if (end < 0) break;
            at = end + Close.Length;
        }
        return (text[..first], calls);
    }

    /// <summary>One block's JSON: {"name": string, "arguments": object or JSON text}, or null when it is not one.</summary>
    public static (string Name, string Arguments)? ParseCall(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
                return null;
            if (!root.TryGetProperty("arguments", out var arguments) || arguments.ValueKind == JsonValueKind.Null) return (name.GetString()!, "{}");
            // Some models write the arguments as a JSON string; OpenAI's field is that string.
            return (name.GetString()!, arguments.ValueKind == JsonValueKind.String ? arguments.GetString()! : arguments.GetRawText());
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
