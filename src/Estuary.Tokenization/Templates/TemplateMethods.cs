// The Python methods a template may call on its values (content.strip(), role.startswith('s'), message.get('content', ''),
// items.index(x)), as Python's str, list, tuple and dict define them. Positions count code points, as Python's do.
// Invariant: a method the immutable sandbox forbids (list.append, dict.update …) reads as undefined; a Python method not
// implemented here fails when called, naming it and the line.
using System.Text;

namespace Estuary.Tokenization.Templates;

internal static class TemplateMethods
{
    private static readonly HashSet<string> s_string =
    [
        "strip", "lstrip", "rstrip", "startswith", "endswith", "upper", "lower", "title", "capitalize", "swapcase", "casefold", "split",
        "rsplit", "splitlines", "replace", "find", "rfind", "index", "rindex", "count", "join", "format", "isdigit", "isdecimal",
        "isnumeric", "isalpha", "isalnum", "isspace", "isupper", "islower", "istitle", "zfill", "ljust", "rjust", "center",
        "removeprefix", "removesuffix", "partition", "rpartition", "expandtabs", "encode", "format_map", "isascii",
        "isidentifier", "isprintable", "maketrans", "translate",
    ];

    private static readonly HashSet<string> s_dict = ["get", "items", "keys", "values", "copy"];

    private static readonly HashSet<string> s_list = ["index", "count", "copy"];

    // Methods that change their object: the immutable sandbox returns an undefined value for them.
    private static readonly HashSet<string> s_mutating =
        ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear", "update", "setdefault", "popitem", "fromkeys"];

    public static bool IsDictMethod(string name) => s_dict.Contains(name);

    public static bool IsUnsafeMethod(object? target, string name) => target is List<object?> or Dictionary<string, object?> && s_mutating.Contains(name);

    /// <summary>Whether <paramref name="target"/> has a (safe) method called <paramref name="name"/>.</summary>
    public static bool Has(object? target, string name) => target switch
    {
        string => s_string.Contains(name),
        PyTuple => name is "index" or "count",
        List<object?> => s_list.Contains(name),
        Dictionary<string, object?> => s_dict.Contains(name),
        _ => false,
    };

    public static object? Invoke(BoundMethod m, List<object?> args, Dictionary<string, object?> kwargs, int line)
    {
        object? Arg(int i, string name, object? fallback) => i < args.Count ? args[i] : kwargs.TryGetValue(name, out var v) ? v : fallback;
        string Text(int i, string name) => Arg(i, name, null) is string s ? s
            : throw new TemplateException($"line {line}: {m.Name}() needs a string {name}, not {TemplateValues.TypeName(Arg(i, name, null))}");
        switch (m.Target)
        {
            case Dictionary<string, object?> dict:
                return m.Name switch
                {
                    "get" => Arg(0, "key", null) is string key && dict.TryGetValue(key, out var v) ? v : Arg(1, "default", null),
                    "items" => dict.Select(kv => (object?)new PyTuple(kv.Key, kv.Value)).ToList(),
                    "keys" => dict.Keys.Select(k => (object?)k).ToList(),
                    "copy" => new Dictionary<string, object?>(dict),
                    _ => dict.Values.ToList(),
                };
            case List<object?> list:
                switch (m.Name)
                {
                    case "count": return (long)list.Count(x => TemplateValues.AreEqual(x, Arg(0, "value", null)));
                    case "copy": return new List<object?>(list);
                    default:
                        int at = list.FindIndex(x => TemplateValues.AreEqual(x, Arg(0, "value", null)));
                        return at >= 0 ? (long)at : throw new TemplateException($"line {line}: {TemplateValues.ToText(Arg(0, "value", null))} is not in the list");
                }
        }
        var text = (string)m.Target;
        switch (m.Name)
        {
            case "strip" or "lstrip" or "rstrip":
                var chars = Arg(0, "chars", null);
                if (chars is not (null or string)) throw new TemplateException($"line {line}: {m.Name} arg must be None or str");
                return PyStrip(text, chars as string, m.Name != "rstrip", m.Name != "lstrip");
            case "startswith" or "endswith":
            {
                var affix = Arg(0, m.Name == "startswith" ? "prefix" : "suffix", null);
                var candidates = affix switch
                {
                    string s => [s],
                    PyTuple t when t.All(x => x is string) => t.Cast<string>().ToList(),
                    _ => throw new TemplateException($"line {line}: {m.Name} first arg must be str or a tuple of str, not {TemplateValues.TypeName(affix)}"),
                };
                var (from, to) = Bounds(text, Arg(1, "start", null), Arg(2, "end", null), line);
                string window = TemplateText.Substring(text, from, to);
                if (to < from) return false;
                return candidates.Any(c => m.Name == "startswith" ? window.StartsWith(c, StringComparison.Ordinal) : window.EndsWith(c, StringComparison.Ordinal));
            }
            case "upper": return TemplateText.Upper(text);
            case "lower" or "casefold": return TemplateText.Lower(text);
            case "title": return TemplateText.Title(text);
            case "capitalize": return TemplateText.Capitalize(text);
            case "swapcase": return TemplateText.SwapCase(text);
            case "split" or "rsplit":
                return Split(text, Arg(0, "sep", null), Arg(1, "maxsplit", -1L), m.Name == "rsplit", line);
            case "splitlines":
                return SplitLines(text, TemplateValues.IsTrue(Arg(0, "keepends", false)));
            case "replace": return PyReplace(text, Text(0, "old"), Text(1, "new"), Arg(2, "count", -1L) is long n ? n : -1);
            case "find" or "rfind" or "index" or "rindex" or "count":
            {
                string sub = Text(0, "sub");
                var (from, to) = Bounds(text, Arg(1, "start", null), Arg(2, "end", null), line);
                string window = TemplateText.Substring(text, from, to);
                if (m.Name == "count") return to < from ? 0L : (long)CountOf(window, sub);
                int at = to < from ? -1 : m.Name.StartsWith('r') ? window.LastIndexOf(sub, StringComparison.Ordinal) : window.IndexOf(sub, StringComparison.Ordinal);
                if (at < 0) return m.Name.Contains("index", StringComparison.Ordinal) ? throw new TemplateException($"line {line}: substring not found") : -1L;
                return (long)(from + TemplateText.Length(window[..at]));
            }
            case "join":
                if (Arg(0, "iterable", null) is not (List<object?> or string or Dictionary<string, object?>) )
                    throw new TemplateException($"line {line}: join() needs an iterable");
                var parts = Arg(0, "iterable", null) switch
                {
                    string s => TemplateValues.CodePoints(s),
                    Dictionary<string, object?> d => [.. d.Keys],
                    var l => (List<object?>)l!,
                };
                if (parts.FirstOrDefault(p => p is not string) is { } bad)
                    throw new TemplateException($"line {line}: join() expected str items, found {TemplateValues.TypeName(bad)}");
                return string.Join(text, parts.Cast<string>());
            case "format": return TemplateStrFormat.Format(text, args, kwargs, line);
            case "isdigit" or "isdecimal" or "isnumeric" or "isalpha" or "isalnum" or "isspace" or "isascii":
                return Classify(text, m.Name);
            case "isupper": return TemplateText.IsCase(text, upper: true);
            case "islower": return TemplateText.IsCase(text, upper: false);
            case "istitle": return text.Length > 0 && TemplateText.Title(text) == text && text.EnumerateRunes().Any(TemplateText.IsCased);
            case "zfill":
            {
                long width = Arg(0, "width", null) is long w ? w : throw new TemplateException($"line {line}: zfill() needs an integer width");
                int length = TemplateText.Length(text);
                if (width <= length) return text;
                int signAt = text.Length > 0 && text[0] is '+' or '-' ? 1 : 0;
                return text[..signAt] + new string('0', (int)Math.Min(width - length, 1 << 20)) + text[signAt..];
            }
            case "ljust" or "rjust" or "center":
            {
                long width = Arg(0, "width", null) is long w ? w : throw new TemplateException($"line {line}: {m.Name}() needs an integer width");
                string fill = Arg(1, "fillchar", " ") is string f && TemplateText.Length(f) == 1 ? f
                    : throw new TemplateException($"line {line}: {m.Name}() fill character must be exactly one character long");
                int length = TemplateText.Length(text);
                if (width <= length) return text;
                if (width > 1 << 20) throw new TemplateException($"line {line}: {m.Name}() width {width} is too large for a chat template");
                long margin = width - length;
                long left = m.Name == "ljust" ? 0 : m.Name == "rjust" ? margin : margin / 2 + (margin & width & 1);
                return string.Concat(Enumerable.Repeat(fill, (int)left)) + text + string.Concat(Enumerable.Repeat(fill, (int)(margin - left)));
            }
            case "removeprefix": { string p = Text(0, "prefix"); return text.StartsWith(p, StringComparison.Ordinal) ? text[p.Length..] : text; }
            case "removesuffix": { string p = Text(0, "suffix"); return p.Length > 0 && text.EndsWith(p, StringComparison.Ordinal) ? text[..^p.Length] : text; }
            case "partition" or "rpartition":
            {
                string sep = Text(0, "sep");
                if (sep.Length == 0) throw new TemplateException($"line {line}: empty separator");
                int at = m.Name == "partition" ? text.IndexOf(sep, StringComparison.Ordinal) : text.LastIndexOf(sep, StringComparison.Ordinal);
                if (at < 0) return m.Name == "partition" ? new PyTuple(text, "", "") : new PyTuple("", "", text);
                return new PyTuple(text[..at], sep, text[(at + sep.Length)..]);
            }
            default: throw new TemplateException($"line {line}: str.{m.Name}() is not supported in chat templates");
        }
    }

    // Python's start/end arguments of find, count, startswith…: code-point positions, negative from the end, clamped.
    private static (int From, int To) Bounds(string text, object? start, object? end, int line)
    {
        int length = TemplateText.Length(text);
        int Bound(object? v, int fallback) => v switch
        {
            null => fallback,
            long l => (int)Math.Clamp(l < 0 ? l + length : l, 0, length),
            bool b => b ? Math.Min(1, length) : 0,
            _ => throw new TemplateException($"line {line}: slice indices must be integers or None"),
        };
        return (Bound(start, 0), Bound(end, length));
    }

    private static bool Classify(string text, string name)
    {
        if (name == "isascii") return Ascii.IsValid(text);
        if (text.Length == 0) return false;
        foreach (var r in text.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(r);
            bool ok = name switch
            {
                "isdigit" or "isdecimal" => category == System.Globalization.UnicodeCategory.DecimalDigitNumber || name == "isdigit" && r.Value is >= 0xB2 and <= 0xB3 or 0xB9 or >= 0x2070 and <= 0x2079 or >= 0x2080 and <= 0x2089,
                "isnumeric" => Rune.IsNumber(r),
                "isalpha" => Rune.IsLetter(r),
                "isalnum" => Rune.IsLetter(r) || Rune.IsNumber(r),
                _ => IsPySpace(r.Value),
            };
            if (!ok) return false;
        }
        return true;
    }

    private static bool IsPySpace(int c) => c is (>= 0x09 and <= 0x0D) or (>= 0x1C and <= 0x20) or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A)
        or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    /// <summary>Python's str.split(sep, maxsplit) and rsplit: runs of white space when sep is None (empty parts dropped),
    /// else at each sep; an empty sep fails as Python's ValueError does.</summary>
    public static List<object?> Split(string text, object? sep, object? maxsplit, bool fromRight, int line)
    {
        if (maxsplit is not (long or bool)) throw new TemplateException($"line {line}: split's maxsplit must be an integer");
        long max = TemplateValues.ToDouble(maxsplit) is var d && d < 0 ? long.MaxValue : (long)d;
        var parts = new List<string>();
        if (sep is null)
        {
            var words = new List<(int Start, int End)>();
            for (int i = 0; i < text.Length;)
            {
                while (i < text.Length && IsPySpace(text[i])) i++;
                if (i >= text.Length) break;
                int start = i;
                while (i < text.Length && !IsPySpace(text[i])) i++;
                words.Add((start, i));
            }
            if (words.Count == 0) return [];
            if (words.Count - 1 <= max) return [.. words.Select(w => (object?)text[w.Start..w.End])];
            if (!fromRight)
            {
                var head = words.Take((int)max).Select(w => (object?)text[w.Start..w.End]).ToList();
                head.Add(PyStrip(text[words[(int)max].Start..], null, false, true));
                return head;
            }
            var tail = words.Skip(words.Count - (int)max).Select(w => (object?)text[w.Start..w.End]).ToList();
            tail.Insert(0, PyStrip(text[..words[words.Count - (int)max - 1].End], null, true, false));
            return tail;
        }
        if (sep is not string separator) throw new TemplateException($"line {line}: split's separator must be a string or None, not {TemplateValues.TypeName(sep)}");
        if (separator.Length == 0) throw new TemplateException($"line {line}: empty separator");
        if (!fromRight)
        {
            int at = 0;
            for (long n = 0; n < max; n++)
            {
                int i = text.IndexOf(separator, at, StringComparison.Ordinal);
                if (i < 0) break;
                parts.Add(text[at..i]);
                at = i + separator.Length;
            }
            parts.Add(text[at..]);
        }
        else
        {
            int end = text.Length;
            for (long n = 0; n < max && end >= separator.Length; n++)
            {
                int i = text.LastIndexOf(separator, end - 1, end, StringComparison.Ordinal);
                if (i < 0 || i + separator.Length > end) break;
                parts.Insert(0, text[(i + separator.Length)..end]);
                end = i;
            }
            parts.Insert(0, text[..end]);
        }
        return [.. parts.Select(p => (object?)p)];
    }

    private static List<object?> SplitLines(string text, bool keepEnds)
    {
        var lines = new List<object?>();
        int start = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c is not ('\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029')) continue;
            int end = i;
            if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
            lines.Add(keepEnds ? text[start..(i + 1)] : text[start..end]);
            start = i + 1;
        }
        if (start < text.Length) lines.Add(text[start..]);
        return lines;
    }

    /// <summary>Python's str.replace(old, new, count): at most <paramref name="count"/> replacements (all when negative);
    /// an empty <paramref name="old"/> matches before every character and at the end ('ab' → '-a-b-').</summary>
    public static string PyReplace(string text, string old, string replacement, long count = -1)
    {
        if (count < 0) count = long.MaxValue;
        var sb = new StringBuilder();
        int at = 0;
        if (old.Length == 0)
        {
            var points = TemplateValues.CodePoints(text);
            int k = 0;
            for (; k <= points.Count && count > 0; k++, count--)
            {
                sb.Append(replacement);
                if (k < points.Count) sb.Append((string)points[k]!);
            }
            for (; k < points.Count; k++) sb.Append((string)points[k]!);
            return sb.ToString();
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
        if (sub.Length == 0) return TemplateText.Length(text) + 1;
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
        bool Strips(char c) => chars is null ? IsPySpace(c) : chars.Contains(c, StringComparison.Ordinal);
        int a = 0, b = s.Length;
        while (start && a < b && Strips(s[a])) a++;
        while (end && b > a && Strips(s[b - 1])) b--;
        return s[a..b];
    }
}
