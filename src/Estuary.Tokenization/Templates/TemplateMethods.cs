// The Python str and dict methods chat templates call (content.strip(), role.startswith('s'), message.get('content', '')).
// Invariant: a method not listed here reads as undefined on its value; calling it then fails naming the line.
namespace Estuary.Tokenization.Templates;

internal static class TemplateMethods
{
    private static readonly HashSet<string> s_string =
        ["strip", "lstrip", "rstrip", "startswith", "endswith", "upper", "lower", "title", "capitalize", "split", "replace", "find", "count", "join", "format"];

    private static readonly HashSet<string> s_dict = ["get", "items", "keys", "values"];

    public static bool IsStringMethod(string name) => s_string.Contains(name);

    public static bool IsDictMethod(string name) => s_dict.Contains(name);

    public static object? Invoke(BoundMethod m, List<object?> args, int line)
    {
        string Arg(int i, string what) => i < args.Count && args[i] is string s ? s
            : throw new TemplateException($"line {line}: {m.Name}() needs a string {what}");
        if (m.Target is Dictionary<string, object?> dict)
        {
            return m.Name switch
            {
                "get" => dict.TryGetValue(Arg(0, "key"), out var v) ? v : args.Count > 1 ? args[1] : null,
                "items" => dict.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList(),
                "keys" => dict.Keys.Select(k => (object?)k).ToList(),
                _ => dict.Values.ToList(),
            };
        }
        var text = (string)m.Target;
        switch (m.Name)
        {
            case "strip": return PyStrip(text, args.Count > 0 ? args[0] as string : null, true, true);
            case "lstrip": return PyStrip(text, args.Count > 0 ? args[0] as string : null, true, false);
            case "rstrip": return PyStrip(text, args.Count > 0 ? args[0] as string : null, false, true);
            case "startswith": return text.StartsWith(Arg(0, "prefix"), StringComparison.Ordinal);
            case "endswith": return text.EndsWith(Arg(0, "suffix"), StringComparison.Ordinal);
            case "upper": return text.ToUpperInvariant();
            case "lower": return text.ToLowerInvariant();
            case "title": return TemplateFilters.Title(text);
            case "capitalize": return TemplateFilters.Capitalize(text);
            case "split":
                if (args.Count == 0 || args[0] is null) return text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(p => (object?)p).ToList();
                return text.Split(Arg(0, "separator")).Select(p => (object?)p).ToList();
            case "replace": return PyReplace(text, Arg(0, "old text"), Arg(1, "new text"), args.Count > 2 && args[2] is long n ? n : -1);
            case "find": return (long)text.IndexOf(Arg(0, "substring"), StringComparison.Ordinal);
            case "count": return (long)CountOf(text, Arg(0, "substring"));
            case "join":
                if (args.Count != 1 || args[0] is not List<object?> parts) throw new TemplateException($"line {line}: join() needs a list");
                return string.Join(text, parts.Select(TemplateValues.ToText));
            default: throw new TemplateException($"line {line}: str.{m.Name}() is not supported in chat templates");
        }
    }

    /// <summary>Python's str.replace(old, new, count): at most <paramref name="count"/> replacements (all when negative);
    /// an empty <paramref name="old"/> matches before every character and at the end ('ab' → '-a-b-').</summary>
    public static string PyReplace(string text, string old, string replacement, long count = -1)
    {
        if (count < 0) count = long.MaxValue;
        var sb = new System.Text.StringBuilder();
        int at = 0;
        if (old.Length == 0)
        {
            for (; at <= text.Length && count > 0; at++, count--)
            {
                sb.Append(replacement);
                if (at < text.Length) sb.Append(text[at]);
            }
            return at > text.Length ? sb.ToString() : sb.Append(text, at, text.Length - at).ToString();
        }
        for (int i = text.IndexOf(old, StringComparison.Ordinal); i >= 0 && count > 0; i = text.IndexOf(old, at, StringComparison.Ordinal), count--)
        {
            sb.Append(text, at, i - at).Append(replacement);
            at = i + old.Length;
        }
        return sb.Append(text, at, text.Length - at).ToString();
    }

    private static int CountOf(string text, string sub)
    {
        if (sub.Length == 0) return text.Length + 1;
        int n = 0;
        for (int i = text.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = text.IndexOf(sub, i + sub.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    /// <summary>Python's str.strip()/lstrip()/rstrip() without arguments (it also counts U+001C..U+001F as white space).</summary>
    public static string PyStrip(string s, bool start, bool end) => PyStrip(s, null, start, end);

    /// <summary>Python's str.strip(chars) and its one-sided forms: white space when <paramref name="chars"/> is null (or
    /// None), else the characters listed (none at all when the list is empty, where .NET's Trim would take white space).</summary>
    public static string PyStrip(string s, string? chars, bool start, bool end)
    {
        static bool IsPySpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001C' and <= '\u001F';
        bool Strips(char c) => chars is null ? IsPySpace(c) : chars.Contains(c, StringComparison.Ordinal);
        int a = 0, b = s.Length;
        while (start && a < b && Strips(s[a])) a++;
        while (end && b > a && Strips(s[b - 1])) b--;
        return s[a..b];
    }
}
