// Tool calls written as Mistral's instruct models write them (Mistral-7B-Instruct-v0.3, NeMo, Small): [TOOL_CALLS] and then a
// JSON array of {"name": …, "arguments": {…}}, after optional text, read from the finished reply as vLLM's "mistral" tool-call
// parser reads the Hugging Face format (no constraint: the model's own format).
// Invariant: a reply is either content alone, or the content before [TOOL_CALLS] plus the calls of the array after it; text
// after the tag that is not such an array (or one such object) makes the whole reply content, so nothing written is lost.
using System.Text.Json;

namespace Estuary.Engine.Tools;

/// <summary>Reads Mistral-format tool calls out of a reply.</summary>
public static class MistralToolCalls
{
    /// <summary>The token that begins the calls.</summary>
    public const string Tag = "[TOOL_CALLS]";

    /// <summary>
    /// Splits a finished reply into the content before [TOOL_CALLS] and the calls after it (name, arguments as JSON text; a
    /// call without "arguments" has "{}"), or returns null when it has no well-formed calls (it is then content alone).
    /// </summary>
    public static (string Content, List<(string Name, string Arguments)> Calls)? TryParse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int at = text.IndexOf(Tag, StringComparison.Ordinal);
        if (at < 0) return null;
        try
        {
            using var json = JsonDocument.Parse(text[(at + Tag.Length)..]);
            var root = json.RootElement;
            var calls = new List<(string, string)>();
            foreach (var item in root.ValueKind == JsonValueKind.Array ? root.EnumerateArray().ToList() : [root])
            {
                if (HermesToolCalls.ParseCall(item.GetRawText()) is not { } call) return null;
                calls.Add(call);
            }
            return calls.Count == 0 ? null : (text[..at], calls);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
