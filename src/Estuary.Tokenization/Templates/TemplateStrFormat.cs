// Python's str.format as the sandbox runs it: {} {0} {name} fields (with .key and [index] lookups), !r !s !a conversions and
// the format-spec mini-language ([[fill]align][sign][#][0][width][,|_][.precision][type]) for str, int, bool, float and None.
// Invariant: the text equals Python's; a spec Python refuses for the value's type fails naming the line.
using System.Numerics;
using System.Text;

namespace Estuary.Tokenization.Templates;

internal static class TemplateStrFormat
{
    public static string Format(string format, List<object?> args, Dictionary<string, object?> kwargs, int line)
    {
        int auto = 0;
        bool? automatic = null;
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c == '}')
            {
                if (i + 1 < format.Length && format[i + 1] == '}') { sb.Append('}'); i++; continue; }
                throw new TemplateException($"line {line}: single '}}' encountered in format string");
            }
            if (c != '{')
            {
                sb.Append(c);
                continue;
            }
            if (i + 1 < format.Length && format[i + 1] == '{') { sb.Append('{'); i++; continue; }
            int depth = 1, j = i + 1;
            for (; j < format.Length && depth > 0; j++) depth += format[j] == '{' ? 1 : format[j] == '}' ? -1 : 0;
            if (depth > 0) throw new TemplateException($"line {line}: expected '}}' before end of string");
            string field = format[(i + 1)..(j - 1)];
            i = j - 1;
            int colon = IndexOutsideBrackets(field, ':'), bang = IndexOutsideBrackets(field, '!');
            if (bang > colon && colon >= 0) bang = -1;
            int nameEnd = bang >= 0 ? bang : colon >= 0 ? colon : field.Length;
            string name = field[..nameEnd];
            char conversion = bang >= 0 ? (bang + 1 < field.Length ? field[bang + 1] : throw new TemplateException($"line {line}: end of string while looking for conversion specifier")) : '\0';
            string spec = colon >= 0 ? field[(colon + 1)..] : "";
            if (spec.Contains('{')) spec = Format(spec, args, kwargs, line); // nested fields: {:{width}}
            var value = Resolve(name, args, kwargs, ref auto, ref automatic, line);
            value = conversion switch
            {
                '\0' => value,
                's' => TemplateValues.ToText(value),
                'r' or 'a' => TemplateValues.Repr(value),
                _ => throw new TemplateException($"line {line}: unknown conversion specifier {conversion}"),
            };
            sb.Append(FormatValue(value, spec, line));
        }
        return sb.ToString();
    }

    private static int IndexOutsideBrackets(string s, char c)
    {
        bool inBracket = false;
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '[') inBracket = true;
            else if (s[i] == ']') inBracket = false;
            else if (!inBracket && s[i] == c) return i;
        }
        return -1;
    }

    private static object? Resolve(string name, List<object?> args, Dictionary<string, object?> kwargs, ref int auto, ref bool? automatic, int line)
    {
        int end = name.IndexOfAny(['.', '[']);
        string first = end < 0 ? name : name[..end];
        object? value;
        if (first.Length == 0 || first.All(char.IsAsciiDigit))
        {
            bool isAuto = first.Length == 0;
            if (automatic is { } a && a != isAuto) throw new TemplateException($"line {line}: cannot switch between automatic field numbering and manual field specification");
            automatic = isAuto;
            int index = isAuto ? auto++ : int.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
            value = index < args.Count ? args[index] : throw new TemplateException($"line {line}: Replacement index {index} out of range for positional args tuple");
        }
        else value = kwargs.TryGetValue(first, out var v) ? v : throw new TemplateException($"line {line}: format key '{first}' not found");
        for (int i = end; i >= 0 && i < name.Length;)
        {
            if (name[i] == '.')
            {
                int next = name.IndexOfAny(['.', '['], i + 1);
                string attr = next < 0 ? name[(i + 1)..] : name[(i + 1)..next];
                value = value is Dictionary<string, object?> d && d.TryGetValue(attr, out var x) ? x
                    : throw new TemplateException($"line {line}: {TemplateValues.TypeName(value)} has no attribute '{attr}'");
                i = next;
            }
            else
            {
                int close = name.IndexOf(']', i);
                if (close < 0) throw new TemplateException($"line {line}: Missing ']' in format string");
                string key = name[(i + 1)..close];
                value = value switch
                {
                    List<object?> l when key.Length > 0 && key.All(char.IsAsciiDigit) && int.Parse(key, System.Globalization.CultureInfo.InvariantCulture) < l.Count => l[int.Parse(key, System.Globalization.CultureInfo.InvariantCulture)],
                    Dictionary<string, object?> d when d.TryGetValue(key, out var x) => x,
                    _ => throw new TemplateException($"line {line}: no item [{key}] in {TemplateValues.TypeName(value)}"),
                };
                i = close + 1 < name.Length ? close + 1 : -1;
            }
        }
        return value;
    }

    /// <summary>Python's format(value, spec).</summary>
    public static string FormatValue(object? value, string spec, int line)
    {
        if (spec.Length == 0) return TemplateValues.ToText(value);
        int i = 0;
        char fill = ' ', align = '\0', sign = '\0', type = '\0', grouping = '\0';
        bool alternate = false;
        if (spec.Length >= 2 && spec[1] is '<' or '>' or '^' or '=') { fill = spec[0]; align = spec[1]; i = 2; }
        else if (spec[0] is '<' or '>' or '^' or '=') { align = spec[0]; i = 1; }
        if (i < spec.Length && spec[i] is '+' or '-' or ' ') sign = spec[i++];
        if (i < spec.Length && spec[i] == '#') { alternate = true; i++; }
        if (i < spec.Length && spec[i] == '0' && align == '\0') { fill = '0'; align = '='; }
        int start = i;
        while (i < spec.Length && char.IsAsciiDigit(spec[i])) i++;
        int width = i > start ? int.Parse(spec.AsSpan(start, i - start), System.Globalization.CultureInfo.InvariantCulture) : 0;
        if (i < spec.Length && spec[i] is ',' or '_') grouping = spec[i++];
        int? precision = null;
        if (i < spec.Length && spec[i] == '.')
        {
            start = ++i;
            while (i < spec.Length && char.IsAsciiDigit(spec[i])) i++;
            if (i == start) throw new TemplateException($"line {line}: Format specifier missing precision");
            precision = int.Parse(spec.AsSpan(start, i - start), System.Globalization.CultureInfo.InvariantCulture);
        }
        if (i < spec.Length) type = spec[i++];
        if (i < spec.Length) throw new TemplateException($"line {line}: Invalid format specifier '{spec}'");
        if (width > 1 << 20 || precision > TemplateNumberFormat.MaxPrecision) throw new TemplateException($"line {line}: format width or precision is too large for a chat template");

        string body, signText = "";
        bool numeric = true;
        switch (value)
        {
            case string s:
                if (type is not ('\0' or 's') || sign != '\0' || alternate || align == '=' || grouping != '\0')
                    throw new TemplateException($"line {line}: invalid format specifier '{spec}' for a string");
                body = precision is { } p ? TemplateText.Substring(s, 0, p) : s;
                numeric = false;
                break;
            case long or bool when type is '\0' or 'd' or 'n' or 'b' or 'o' or 'x' or 'X' or 'c':
            {
                if (precision is not null) throw new TemplateException($"line {line}: Precision not allowed in integer format specifier");
                BigInteger n = value is bool b ? (b ? 1 : 0) : (long)value;
                if (type == 'c')
                {
                    body = n >= 0 && n <= 0x10FFFF ? char.ConvertFromUtf32((int)n) : throw new TemplateException($"line {line}: %c arg not in range(0x110000)");
                    numeric = false;
                    break;
                }
                int radix = type switch { 'b' => 2, 'o' => 8, 'x' or 'X' => 16, _ => 10 };
                body = TemplateNumberFormat.Integer(n, radix);
                if (grouping != '\0') body = TemplateNumberFormat.Group(body, grouping, radix == 10 ? 3 : 4);
                if (alternate && radix != 10) body = (radix == 2 ? "0b" : radix == 8 ? "0o" : "0x") + body;
                if (type == 'X') body = body.ToUpperInvariant();
                signText = n.Sign < 0 ? "-" : sign is '+' or ' ' ? sign.ToString() : "";
                break;
            }
            case long or bool or double when type is '\0' or 'e' or 'E' or 'f' or 'F' or 'g' or 'G' or 'n' or '%':
            {
                double d = TemplateValues.ToDouble(value);
                bool negative = d < 0 || d == 0 && double.IsNegative(d);
                double a = Math.Abs(d);
                body = type switch
                {
                    'e' or 'E' => TemplateNumberFormat.Exponent(a, precision ?? 6, alternate),
                    'f' or 'F' => TemplateNumberFormat.Fixed(a, precision ?? 6, alternate),
                    '%' => TemplateNumberFormat.Fixed(a * 100, precision ?? 6, alternate) + "%",
                    'g' or 'G' or 'n' => TemplateNumberFormat.General(a, precision ?? 6, alternate),
                    _ when precision is { } digits => GeneralWithPoint(a, digits, alternate),
                    _ => TemplateValues.FloatText(a),
                };
                if (char.IsUpper(type)) body = body.ToUpperInvariant();
                if (grouping != '\0') body = TemplateNumberFormat.Group(body, grouping);
                signText = negative ? "-" : sign is '+' or ' ' ? sign.ToString() : "";
                break;
            }
            default:
                throw new TemplateException($"line {line}: unsupported format string '{spec}' passed to {TemplateValues.TypeName(value)}.__format__");
        }
        if (align == '\0') align = numeric ? '>' : '<';
        int length = TemplateText.Length(body) + signText.Length;
        if (length >= width) return signText + body;
        int pad = width - length;
        string Fill(int n) => new(fill, n);
        return align switch
        {
            '<' => signText + body + Fill(pad),
            '>' => Fill(pad) + signText + body,
            '^' => Fill(pad / 2) + signText + body + Fill(pad - pad / 2),
            _ => signText + Fill(pad) + body,
        };
    }

    // A float with a precision and no type: 'g', but a whole number keeps one decimal ("{:.3}".format(2.0) is '2.0').
    private static string GeneralWithPoint(double a, int precision, bool alternate)
    {
        string g = TemplateNumberFormat.General(a, precision, alternate);
        return g.Contains('.') || g.Contains('e') || g is "inf" or "nan" ? g : g + ".0";
    }
}
