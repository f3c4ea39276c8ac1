// The tojson filter as transformers' apply_chat_template defines it (it replaces Jinja's own, which HTML-escapes < > & ' and
// takes only indent): json.dumps(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False), in that argument
// order. Invariant: the text equals Python's json.dumps output for the same values; a value json.dumps refuses (undefined,
// a namespace, a function) fails here too.
using System.Globalization;
using System.Text;

namespace Estuary.Tokenization.Templates;

/// <summary>json.dumps' options as tojson receives them.</summary>
/// <param name="EnsureAscii">Non-ASCII characters written as \uXXXX escapes (UTF-16 units, as Python does).</param>
/// <param name="Indent">Null for one line; otherwise the text one nesting level is indented by (an int n reads as n spaces).</param>
/// <param name="ItemSeparator">Between items: ", " on one line, "," when indented, unless separators= says otherwise.</param>
/// <param name="KeySeparator">Between a key and its value (": " unless separators= says otherwise).</param>
/// <param name="SortKeys">Object keys in code-point order rather than insertion order.</param>
internal sealed record JsonOptions(bool EnsureAscii, string? Indent, string ItemSeparator, string KeySeparator, bool SortKeys)
{
    /// <summary>The widest indent tojson accepts (Python takes any; this bounds the text a template can make).</summary>
    public const int MaxIndent = 1024;

    /// <summary>The options of <c>tojson(ensure_ascii, indent, separators, sort_keys)</c>, positional or by keyword.</summary>
    public static JsonOptions FromArguments(List<object?> args, Dictionary<string, object?> kwargs, int line)
    {
        string[] names = ["ensure_ascii", "indent", "separators", "sort_keys"];
        if (args.Count > names.Length) throw new TemplateException($"line {line}: tojson takes at most {names.Length} arguments");
        foreach (var name in kwargs.Keys)
            if (Array.IndexOf(names, name) < 0) throw new TemplateException($"line {line}: tojson has no argument '{name}'");
        object? Arg(int i) => i < args.Count ? args[i] : kwargs.GetValueOrDefault(names[i]);
        string? indent = Arg(1) switch
        {
            null => null,
            long n => n <= MaxIndent ? new string(' ', (int)Math.Max(n, 0)) // Python: ' ' * n, empty when n <= 0
                : throw new TemplateException($"line {line}: tojson's indent {n} is too large for a chat template (at most {MaxIndent})"),
            bool b => b ? " " : "",
            string s => s,
            var other => throw new TemplateException($"line {line}: tojson's indent must be an integer or a string, not {TemplateValues.TypeName(other)}"),
        };
        string item = indent is null ? ", " : ",", key = ": ";
        if (Arg(2) is { } separators)
        {
            if (separators is not List<object?> { Count: 2 } pair || pair[0] is not string i || pair[1] is not string k)
                throw new TemplateException($"line {line}: tojson's separators must be a pair of strings (item, key)");
            (item, key) = (i, k);
        }
        return new JsonOptions(TemplateValues.IsTrue(Arg(0)), indent, item, key, TemplateValues.IsTrue(Arg(3)));
    }
}

internal static class TemplateJson
{
    /// <summary>The default options: json.dumps with ensure_ascii off, on one line.</summary>
    public static readonly JsonOptions Compact = new(false, null, ", ", ": ", false);

    /// <summary><paramref name="value"/> as json.dumps writes it with <paramref name="options"/>.</summary>
    public static string Write(object? value, JsonOptions options, int line)
    {
        var sb = new StringBuilder();
        Write(sb, value, options, 0, line);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? v, JsonOptions o, int depth, int line)
    {
        switch (v)
        {
            case null: sb.Append("null"); return;
            case bool b: sb.Append(b ? "true" : "false"); return;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); return;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : TemplateValues.FloatText(d));
                return;
            case string s: WriteString(sb, s, o.EnsureAscii); return;
            case PyRange:
                break; // json.dumps cannot write a range object
            case List<object?> list:
                WriteContainer(sb, '[', ']', list, o, depth, line, (x, d) => Write(sb, x, o, d, line));
                return;
            case Namespace:
                break; // json.dumps cannot write a Namespace object
            case Dictionary<string, object?> dict:
                IEnumerable<KeyValuePair<string, object?>> pairs = o.SortKeys ? dict.OrderBy(kv => kv.Key, CodePointComparer.Instance) : dict;
                WriteContainer(sb, '{', '}', [.. pairs], o, depth, line, (kv, d) =>
                {
                    WriteString(sb, kv.Key, o.EnsureAscii);
                    sb.Append(o.KeySeparator);
                    Write(sb, kv.Value, o, d, line);
                });
                return;
        }
        throw new TemplateException($"line {line}: tojson cannot write {(v is Undefined ? "an undefined value" : "a " + TemplateValues.TypeName(v))} as JSON");
    }

    private static void WriteContainer<T>(StringBuilder sb, char open, char close, IReadOnlyList<T> items, JsonOptions o, int depth, int line,
        Action<T, int> writeItem)
    {
        if (depth > 512) throw new TemplateException($"line {line}: tojson: the value is nested too deeply");
        sb.Append(open);
        if (items.Count == 0)
        {
            sb.Append(close);
            return;
        }
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0) sb.Append(o.ItemSeparator);
            if (o.Indent is { } indent) NewLine(sb, indent, depth + 1);
            writeItem(items[i], depth + 1);
        }
        if (o.Indent is { } outer) NewLine(sb, outer, depth);
        sb.Append(close);
    }

    private static void NewLine(StringBuilder sb, string indent, int depth)
    {
        sb.Append('\n');
        for (int i = 0; i < depth; i++) sb.Append(indent);
    }

    // Python's JSON string escapes: ", \ and the control characters; with ensure_ascii every non-ASCII UTF-16 unit as \uxxxx.
    private static void WriteString(StringBuilder sb, string s, bool ensureAscii)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || ensureAscii && c > 0x7E) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>Python's order of str: by code point (UTF-16 ordinal order differs above the surrogates).</summary>
    private sealed class CodePointComparer : IComparer<string>
    {
        public static readonly CodePointComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            var a = (x ?? "").EnumerateRunes();
            var b = (y ?? "").EnumerateRunes();
            while (true)
            {
                bool moreA = a.MoveNext(), moreB = b.MoveNext();
                if (!moreA || !moreB) return moreA.CompareTo(moreB);
                int c = a.Current.Value.CompareTo(b.Current.Value);
                if (c != 0) return c;
            }
        }
    }
}
