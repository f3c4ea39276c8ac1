// Finds the first string (value or member name) of a JSON body that is not valid Unicode: invalid UTF-8 bytes, or a \ud800–\udfff
// escape without its pair. System.Text.Json checks neither until a string is read, so a bad string inside a field kept as a
// JsonElement (a schema, tools, logit_bias keys) would otherwise fail wherever it is first read, as a 500.
// Invariant: called on a body that parsed as JSON; returns the field's path ("tools[0].function.name") or null when all is text.
using System.Text;
using System.Text.Json;

namespace Estuary.Server.Http;

internal static class JsonStrings
{
    /// <summary>The path of the first string in <paramref name="json"/> that is not valid Unicode, or null; "$" is the body itself.</summary>
    public static string? FindInvalid(ReadOnlySpan<byte> json, int maxDepth)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth, CommentHandling = JsonCommentHandling.Disallow });
        var path = new List<(string? Name, int Index)>(); // per open container: the member name being read (object) or the next index (array)
        string? member = null;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    path.Add((member, reader.TokenType == JsonTokenType.StartArray ? 0 : -1));
                    member = null;
                    continue;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    path.RemoveAt(path.Count - 1);
                    member = null;
                    Advance(path);
                    continue;
                case JsonTokenType.PropertyName:
                    if (!IsText(ref reader)) return Format(path, null);
                    member = reader.GetString();
                    continue;
                case JsonTokenType.String:
                    if (!IsText(ref reader)) return Format(path, member);
                    break;
            }
            member = null;
            Advance(path);
        }
        return null;
    }

    private static bool IsText(ref Utf8JsonReader reader)
    {
        // Plain ASCII without escapes is always text; only the rest needs the transcoding check.
        if (!reader.ValueIsEscaped && Ascii.IsValid(reader.ValueSpan)) return true;
        try
        {
            _ = reader.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    // After a value inside an array, the next element has the next index.
    private static void Advance(List<(string? Name, int Index)> path)
    {
        if (path.Count > 0 && path[^1].Index >= 0) path[^1] = (path[^1].Name, path[^1].Index + 1);
    }

    private static string Format(List<(string? Name, int Index)> path, string? member)
    {
        var text = new StringBuilder();
        for (int i = 1; i < path.Count; i++) Append(text, path[i].Name, path[i - 1].Index);
        if (path.Count > 0) Append(text, member, path[^1].Index);
        return text.Length == 0 ? "$" : text.ToString();
    }

    // A container (or value) reached by its parent's member name, or by the parent array's current index.
    private static void Append(StringBuilder text, string? name, int parentIndex)
    {
        if (parentIndex >= 0) text.Append('[').Append(parentIndex).Append(']');
        else if (name is not null) text.Append(text.Length > 0 ? "." : "").Append(name);
    }
}
