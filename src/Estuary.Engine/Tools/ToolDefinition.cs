// A function the model may call: its name and the JSON Schema of its arguments (OpenAI's tools[].function, MEAI's AIFunction).
using System.Text.Json.Nodes;

namespace Estuary.Engine.Tools;

/// <summary>A callable function: <paramref name="Name"/> and the JSON Schema <paramref name="Parameters"/> of its arguments.</summary>
public sealed record ToolDefinition(string Name, JsonObject Parameters)
{
    /// <summary>The longest name OpenAI accepts.</summary>
    public const int MaxNameLength = 64;

    /// <summary>Whether <paramref name="name"/> is a valid function name: 1–64 ASCII letters, digits, '_' or '-'.</summary>
    public static bool IsValidName(string? name) =>
        name is { Length: > 0 and <= MaxNameLength } && name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-');
}
