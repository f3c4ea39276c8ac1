// Checks a parsed JSON body for what System.Text.Json lets through until a value is read: strings (values or member names) that
// are not valid Unicode (invalid UTF-8 bytes, a \ud800–\udfff escape without its pair) and members given twice in one object.
// Fields kept as raw JSON (schemas, tools, logit_bias) are read late and in other layers, where either would fail as a 500 or
// with a .NET message; found here, they are a 400 naming the field.
// Invariant: called on a body that parsed as JSON; returns the first problem with its field's path ("tools[0].function.name").
using System.Text;
using System.Text.Json;

namespace Estuary.Server.Http;

internal static class JsonBodyScan
{
    /// <summary>What is wrong with a field: its path ("$" for the body itself) and the message naming it.</summary>
    public readonly record struct Problem(string Path, string Message);

    /// <summary>The first string that is not text or member given twice in <paramref name="json"/>, or null.</summary>
    public static Problem? Find(ReadOnlySpan<byte> json, int maxDepth)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
        var path = new List<Level>();
        string? member = null;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    path.Add(new Level(member, reader.TokenType == JsonTokenType.StartArray ? 0 : -1));
                    member = null;
                    continue;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    path.RemoveAt(path.Count - 1);
                    member = null;
                    Advance(path);
                    continue;
                case JsonTokenType.PropertyName:
                    if (!IsText(ref reader)) return NameNotText(Format(path, null));
                    member = reader.GetString()!;
                    if (!path[^1].Add(member))
                    {
                        var at = Format(path, member);
                        return new Problem(at, $"'{at}' is given twice");
                    }
                    continue;
                case JsonTokenType.String:
                    if (!IsText(ref reader)) return new Problem(Format(path, member), JsonText.NotText(Format(path, member)));
                    break;
            }
            member = null;
            Advance(path);
        }
        return null;
    }

    // A member name is named by the object that holds it.
    private static Problem NameNotText(string at) => new(at, (at == "$" ? "the request body has" : $"'{at}' has") +
        " a member name that is not valid text: it holds invalid UTF-8 or an unpaired UTF-16 surrogate escape");

    /// <summary>One open object or array: the member it is the value of, the next element's index (arrays), the names seen (objects).</summary>
    private sealed class Level(string? name, int index)
    {
        private HashSet<string>? _names;
        private string? _first;

        public string? Name { get; } = name;
        public int Index { get; set; } = index;

        /// <summary>Records a member name; false if this object already had it.</summary>
        public bool Add(string member)
        {
            if (_first is null)
            {
                _first = member;
                return true;
            }
            _names ??= new HashSet<string>(StringComparer.Ordinal) { _first };
            return _names.Add(member);
        }
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
    private static void Advance(List<Level> path)
    {
        if (path.Count > 0 && path[^1].Index >= 0) path[^1].Index++;
    }

    private static string Format(List<Level> path, string? member)
    {
        var text = new StringBuilder();
        for (int i = 1; i < path.Count; i++) Append(text, path[i].Name, path[i - 1].Index);
        if (path.Count > 0) Append(text, member, path[^1].Index);
        return text.Length == 0 ? "$" : text.ToString();
    }

    // A value reached by its parent object's member name (an empty name written "", so that it still shows), or by its parent
    // array's current index.
    private static void Append(StringBuilder text, string? name, int parentIndex)
    {
        if (parentIndex >= 0) text.Append('[').Append(parentIndex).Append(']');
        else if (name is not null) text.Append(text.Length > 0 ? "." : "").Append(name.Length == 0 ? "\"\"" : name);
    }
}
