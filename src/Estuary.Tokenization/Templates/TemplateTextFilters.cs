// Jinja's text filters beyond the str methods: title (Jinja's own: each run after '-', white space or an opening bracket
// capitalized, not str.title), truncate, escape, urlencode, filesizeformat, and the int and float conversions with Python's
// parsing ("42.5"|int is 42, " 1_000 "|int is 1000, "inf"|float is inf). Invariant: as filters.py computes them; lengths
// count code points.
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.RegularExpressions;

namespace Estuary.Tokenization.Templates;

internal static partial class TemplateTextFilters
{
    /// <summary>Jinja's title filter: the text split at runs of '-', white space, '(', '{', '[' and '&lt;'; each piece's
    /// first character upper-cased and the rest lower-cased.</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        var word = new StringBuilder();
        void EndWord()
        {
            if (word.Length == 0) return;
            var first = Rune.GetRuneAt(word.ToString(), 0);
            sb.Append(TemplateText.Upper(first.ToString())).Append(TemplateText.Lower(word.ToString()[first.Utf16SequenceLength..])); // the rest lowered as one text (final sigma)
            word.Clear();
        }
        foreach (var r in s.EnumerateRunes())
        {
            if (r.Value is '-' or '(' or '{' or '[' or '<' || Rune.IsWhiteSpace(r) || r.Value is >= 0x1C and <= 0x1F)
            {
                EndWord();
                sb.Append(r.ToString());
            }
            else word.Append(r.ToString());
        }
        EndWord();
        return sb.ToString();
    }

    /// <summary>truncate(s, length=255, killwords=False, end='...', leeway=5).</summary>
    public static object? Truncate(object? value, object? length, bool killWords, object? end, object? leeway, int line)
    {
        if (length is not (long or bool) || leeway is not (long or bool) || end is not string tail)
            throw new TemplateException($"line {line}: truncate needs integer length and leeway and a string end");
        long max = (long)TemplateValues.ToDouble(length), slack = (long)TemplateValues.ToDouble(leeway);
        int endLength = TemplateText.Length(tail);
        if (max < endLength) throw new TemplateException($"line {line}: truncate: expected length >= {endLength}, got {max}");
        if (slack < 0) throw new TemplateException($"line {line}: truncate: expected leeway >= 0, got {slack}");
        if (value is not string s)
        {
            // Jinja measures any value with a length and returns it when short enough; cutting one fails but for a string
            long count = value switch
            {
                Undefined => 0,
                List<object?> list => list.Count,
                Dictionary<string, object?> d and not Namespace => d.Count,
                _ => throw new TemplateException($"line {line}: truncate of {TemplateValues.TypeName(value)}, which has no length"),
            };
            return count <= max + slack ? value : throw new TemplateException($"line {line}: truncate can only cut a string, not {TemplateValues.TypeName(value)}");
        }
        if (TemplateText.Length(s) <= max + slack) return s;
        string head = TemplateText.Substring(s, 0, (int)(max - endLength));
        if (killWords) return head + tail;
        int space = head.LastIndexOf(' ');
        return (space < 0 ? head : head[..space]) + tail;
    }

    /// <summary>markupsafe's escape: &amp; &lt; &gt; ' " as entities, in str(value).</summary>
    public static string Escape(object? value) => TemplateValues.ToText(value).Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;")
        .Replace("'", "&#39;").Replace("\"", "&#34;");

    /// <summary>urlencode: a string (or any non-iterable) percent-quoted with '/' kept; a mapping or a list of pairs as a
    /// query string (spaces as '+').</summary>
    public static string UrlEncode(object? value, int line)
    {
        if (value is Undefined) return ""; // an empty iterable
        if (value is string or null or long or double or bool) return Quote(TemplateValues.ToText(value), forQuery: false);
        IEnumerable<object?> pairs = value switch
        {
            Namespace => throw new TemplateException($"line {line}: urlencode of a namespace"),
            Dictionary<string, object?> d => d.Select(kv => (object?)new PyTuple(kv.Key, kv.Value)),
            List<object?> l => l,
            _ => throw new TemplateException($"line {line}: urlencode of {TemplateValues.TypeName(value)}"),
        };
        return string.Join("&", pairs.Select(p => p is List<object?> { Count: 2 } kv
            ? Quote(TemplateValues.ToText(kv[0]), true) + "=" + Quote(TemplateValues.ToText(kv[1]), true)
            : throw new TemplateException($"line {line}: urlencode needs pairs of key and value")));
    }

    private static string Quote(string s, bool forQuery)
    {
        var sb = new StringBuilder();
        foreach (byte b in Encoding.UTF8.GetBytes(s))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'_' or (byte)'.' or (byte)'-' or (byte)'~' || b == '/' && !forQuery) sb.Append((char)b);
            else if (b == ' ' && forQuery) sb.Append('+');
            else sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>filesizeformat(value, binary=False): "1 Byte", "12 Bytes", "1.5 kB" (or KiB, powers of 1024).</summary>
    public static string FileSize(object? value, bool binary, int line)
    {
        double bytes = value switch
        {
            string s => ParseFloat(s) ?? throw new TemplateException($"line {line}: could not convert string to float: {TemplateText.Repr(s)}"),
            _ when TemplateValues.IsNumber(value) => TemplateValues.ToDouble(value),
            _ => throw new TemplateException($"line {line}: filesizeformat of {TemplateValues.TypeName(value)}"),
        };
        double unitBase = binary ? 1024 : 1000;
        string[] prefixes = binary ? ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"] : ["kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
        if (bytes == 1) return "1 Byte";
        if (bytes < unitBase)
        {
            if (!double.IsFinite(bytes)) throw new TemplateException($"line {line}: cannot convert float {TemplateValues.FloatText(bytes)} to integer");
            return ((long)Math.Truncate(bytes)).ToString(CultureInfo.InvariantCulture) + " Bytes";
        }
        double unit = 0;
        string prefix = "";
        for (int i = 0; i < prefixes.Length; i++)
        {
            unit = Math.Pow(unitBase, i + 2);
            prefix = prefixes[i];
            if (bytes < unit) break;
        }
        double shown = unitBase * bytes / unit;
        return (shown < 0 ? "-" : "") + TemplateNumberFormat.Fixed(shown, 1) + " " + prefix;
    }

    /// <summary>int(value, default=0, base=10): Python's int() of a string in the base (or of a number), else int(float(value)), else the default.</summary>
    public static object? ToInt(object? value, object? fallback, object? radix, int line)
    {
        if (value is Undefined) throw new TemplateException($"line {line}: int of an undefined value");
        if (value is string s && radix is long b && ParseInt(s, (int)b) is { } parsed) return Narrow(parsed, line);
        if (value is long or bool) return value is bool flag ? (flag ? 1L : 0L) : value;
        double? d = value switch { double x => x, string s2 => ParseFloat(s2), _ => null };
        if (d is not { } f || double.IsNaN(f)) return fallback;
        if (double.IsInfinity(f)) throw new TemplateException($"line {line}: cannot convert float infinity to integer");
        return Narrow(new BigInteger(Math.Truncate(f)), line);
    }

    private static long Narrow(BigInteger n, int line) => n >= long.MinValue && n <= long.MaxValue ? (long)n
        : throw new TemplateException($"line {line}: the integer {n} is too large for a chat template (over 64 bits)");

    /// <summary>float(value, default=0.0): Python's float() of a number or a string, else the default.</summary>
    public static object? ToFloat(object? value, object? fallback, int line) => value switch
    {
        Undefined => throw new TemplateException($"line {line}: float of an undefined value"),
        double d => d,
        long or bool => TemplateValues.ToDouble(value),
        string s => ParseFloat(s) ?? fallback,
        _ => fallback,
    };

    [GeneratedRegex(@"^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$")]
    private static partial Regex FloatSyntax();

    /// <summary>Python's float(str): white space around, underscores between digits, inf/infinity/nan in any case.</summary>
    public static double? ParseFloat(string s)
    {
        s = TemplateMethods.PyStrip(s, true, true);
        string lower = s.ToLowerInvariant().TrimStart('+', '-');
        if (s.Length > 0 && (s[0] is '+' or '-' ? s.Length - 1 : s.Length) == lower.Length && lower is "inf" or "infinity" or "nan")
            return lower == "nan" ? double.NaN : s[0] == '-' ? double.NegativeInfinity : double.PositiveInfinity;
        if (!FloatSyntax().IsMatch(s)) return null;
        return double.Parse(s.Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    // Python's int(str, base): white space around, a sign, underscores between digits, the base's prefix allowed.
    private static BigInteger? ParseInt(string s, int radix)
    {
        if (radix is < 2 or > 36 && radix != 0) return null;
        s = TemplateMethods.PyStrip(s, true, true);
        bool negative = s.StartsWith('-');
        if (s.StartsWith('-') || s.StartsWith('+')) s = s[1..];
        string lower = s.ToLowerInvariant();
        int prefixRadix = lower.StartsWith("0x") ? 16 : lower.StartsWith("0o") ? 8 : lower.StartsWith("0b") ? 2 : 0;
        if (prefixRadix != 0 && (radix == prefixRadix || radix == 0))
        {
            s = s[2..].StartsWith('_') ? s[3..] : s[2..];
            radix = prefixRadix;
        }
        else if (radix == 0)
        {
            if (s.Length > 1 && s.TrimStart('0', '_').Length < s.Length && s.Replace("_", "").Trim('0').Length > 0) return null;
            radix = 10;
        }
        if (s.Length == 0 || s.StartsWith('_') || s.EndsWith('_') || s.Contains("__", StringComparison.Ordinal)) return null;
        BigInteger n = 0;
        foreach (char c in s)
        {
            if (c == '_') continue;
            int digit = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiLetter(c) ? char.ToLowerInvariant(c) - 'a' + 10 : 99;
            if (digit >= radix) return null;
            n = n * radix + digit;
        }
        return negative ? -n : n;
    }
}
