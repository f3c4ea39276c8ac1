// Reads one JSON event (or body) from a benchmarked server defensively: a server under test may send anything, and what it sends
// wrong must fail that request with a message naming the field and the value, never end the benchmark or be counted as valid.
using System.Text.Json;

namespace Estuary.Bench.Clients;

/// <summary>A response that does not follow its API: the request fails with this message.</summary>
public sealed class BenchProtocolException(string message) : Exception(message);

internal static class ServerEvent
{
    /// <summary>Parses <paramref name="data"/> as a JSON object; an error event ({"error": …}) or any other value is a protocol error.</summary>
    public static JsonDocument Parse(string data)
    {
        var doc = JsonDocument.Parse(data);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            var message = $"expected a JSON object from the server, got {Describe(root)}";
            doc.Dispose();
            throw new BenchProtocolException(message);
        }
        if (root.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
        {
            string message = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String
                ? m.GetString()! : error.GetRawText();
            doc.Dispose(); // message is a copy, taken before
            throw new BenchProtocolException($"the server sent an error: {Snippet(message)}");
        }
        return doc;
    }

    /// <summary>The string at <paramref name="field"/> of <paramref name="parent"/>: null when absent or null, an error for any other kind.</summary>
    public static string? Text(JsonElement parent, string field)
    {
        if (!parent.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) throw new BenchProtocolException($"'{field}' is {Describe(value)}, not a string");
        return value.GetString();
    }

    /// <summary>A token count: a non-negative integer, or a protocol error naming <paramref name="field"/>.</summary>
    public static int Count(JsonElement parent, string field)
    {
        if (!parent.TryGetProperty(field, out var value)) throw new BenchProtocolException($"'{field}' is missing");
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int count) || count < 0)
            throw new BenchProtocolException($"'{field}' is {Describe(value)}, not a non-negative integer");
        return count;
    }

    /// <summary>The first choice of a request with n = 1: the one with index 0 (or no index); null when there is none.</summary>
    public static JsonElement? FirstChoice(JsonElement root)
    {
        if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind == JsonValueKind.Null) return null;
        if (choices.ValueKind != JsonValueKind.Array) throw new BenchProtocolException($"'choices' is {Describe(choices)}, not an array");
        foreach (var choice in choices.EnumerateArray())
        {
            if (choice.ValueKind != JsonValueKind.Object) throw new BenchProtocolException($"a choice is {Describe(choice)}, not an object");
            if (!choice.TryGetProperty("index", out var index) || index.ValueKind == JsonValueKind.Number && index.TryGetInt32(out int i) && i == 0)
                return choice;
        }
        return null;
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        var kind => $"{kind.ToString().ToLowerInvariant()} {Snippet(value.GetRawText())}",
    };

    private static string Snippet(string text) => text.Length > 120 ? text[..120] + "…" : text;
}
