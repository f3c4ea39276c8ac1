// Python's printf-style formatting, str % values, as the '%' operator on a string and Jinja's format filter use it:
// %[(key)][flags][width][.precision]type with types s r a d i u o x X e E f F g G c and %%. A tuple gives the values in
// order, a mapping the (key) values; any other value is the single value. Invariant: the text equals Python's, and what
// Python refuses (too few or too many values, %d of a string, an unknown type) fails naming the line.
using System.Numerics;
using System.Text;

namespace Estuary.Tokenization.Templates;

internal static class TemplatePercentFormat
{
    public static string Format(string format, object? values, int line)
    {
        var items = values is PyTuple t ? (List<object?>)t : [values];
        bool mappingLike = values is Dictionary<string, object?> or List<object?> && values is not PyTuple; // Python skips the count check
        var mapping = values as Dictionary<string, object?>;
        int next = 0;
        object? Take()
        {
            if (next >= items.Count) throw new TemplateException($"line {line}: not enough arguments for format string");
            return items[next++];
        }
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%')
            {
                sb.Append(c);
                continue;
            }
            if (++i >= format.Length) throw new TemplateException($"line {line}: incomplete format");
            object? value = null;
            bool keyed = false;
            if (format[i] == '(')
            {
                int close = format.IndexOf(')', i); // Python counts nested parentheses; keys with them are not for templates
                if (close < 0) throw new TemplateException($"line {line}: incomplete format key");
                if (mapping is null) throw new TemplateException($"line {line}: format requires a mapping");
                string key = format[(i + 1)..close];
                value = mapping.TryGetValue(key, out var v) ? v : throw new TemplateException($"line {line}: format key '{key}' not found");
                keyed = true;
                i = close + 1;
            }
            var spec = new Spec();
            for (; i < format.Length && format[i] is '-' or '+' or ' ' or '#' or '0'; i++)
            {
                switch (format[i])
                {
                    case '-': spec.Left = true; break;
                    case '+': spec.Sign = '+'; break;
                    case ' ': if (spec.Sign != '+') spec.Sign = ' '; break;
                    case '#': spec.Alternate = true; break;
                    default: spec.Zero = true; break;
                }
            }
            spec.Width = ReadNumber(format, ref i, Take, line) ?? 0;
            if (spec.Width < 0) { spec.Left = true; spec.Width = -spec.Width; }
            if (i < format.Length && format[i] == '.')
            {
                i++;
                spec.Precision = ReadNumber(format, ref i, Take, line) ?? 0;
            }
            while (i < format.Length && format[i] is 'h' or 'l' or 'L') i++; // length modifiers are ignored, as in Python
            if (i >= format.Length) throw new TemplateException($"line {line}: incomplete format");
            char type = format[i];
            if (type == '%')
            {
                sb.Append('%');
                continue;
            }
            if (!keyed) value = Take();
            sb.Append(Convert(value, type, spec, line));
        }
        if (next < items.Count && !mappingLike && mapping is null)
            throw new TemplateException($"line {line}: not all arguments converted during string formatting");
        return sb.ToString();
    }

    private sealed class Spec
    {
        public bool Left, Alternate, Zero;
        public char Sign = '-';
        public long Width;
        public long? Precision;
    }

    private static long? ReadNumber(string format, ref int i, Func<object?> take, int line)
    {
        if (i < format.Length && format[i] == '*')
        {
            i++;
            return take() is long n ? n : throw new TemplateException($"line {line}: * wants int");
        }
        int start = i;
        while (i < format.Length && char.IsAsciiDigit(format[i])) i++;
        return i > start ? long.Parse(format.AsSpan(start, i - start), System.Globalization.CultureInfo.InvariantCulture) : null;
    }

    private static string Convert(object? value, char type, Spec spec, int line)
    {
        if (spec.Width > 1 << 20 || spec.Precision > TemplateNumberFormat.MaxPrecision)
            throw new TemplateException($"line {line}: format width or precision is too large for a chat template");
        string body;
        bool numeric = false, negative = false;
        switch (type)
        {
            case 's' or 'r' or 'a':
                body = type == 's' ? TemplateValues.ToText(value) : TemplateValues.Repr(value);
                if (spec.Precision is { } p) body = TemplateText.Substring(body, 0, (int)p);
                break;
            case 'c':
                body = value switch
                {
                    long n when n is >= 0 and <= 0x10FFFF => char.ConvertFromUtf32((int)n),
                    string ch when TemplateText.Length(ch) == 1 => ch,
                    _ => throw new TemplateException($"line {line}: %c requires an int or a unicode character"),
                };
                break;
            case 'd' or 'i' or 'u' or 'o' or 'x' or 'X':
            {
                BigInteger n = value switch
                {
                    long l => l,
                    bool b => b ? 1 : 0,
                    double d when type is 'd' or 'i' or 'u' && double.IsFinite(d) => new BigInteger(Math.Truncate(d)),
                    _ => throw new TemplateException($"line {line}: %{type} format: a {(type is 'd' or 'i' or 'u' ? "real number" : "integer")} is required, not {TemplateValues.TypeName(value)}"),
                };
                numeric = true;
                negative = n.Sign < 0;
                body = TemplateNumberFormat.Integer(n, type is 'o' ? 8 : type is 'x' or 'X' ? 16 : 10);
                if (spec.Precision is { } digits) body = body.PadLeft((int)digits, '0');
                if (spec.Alternate && type is 'o' or 'x' or 'X') body = (type == 'o' ? "0o" : "0x") + body;
                if (type == 'X') body = body.ToUpperInvariant();
                break;
            }
            case 'e' or 'E' or 'f' or 'F' or 'g' or 'G':
            {
                if (!TemplateValues.IsNumber(value)) throw new TemplateException($"line {line}: must be real number, not {TemplateValues.TypeName(value)}");
                double d = TemplateValues.ToDouble(value);
                numeric = true;
                negative = d < 0 || d == 0 && double.IsNegative(d);
                int precision = (int)(spec.Precision ?? 6);
                body = char.ToLowerInvariant(type) switch
                {
                    'e' => TemplateNumberFormat.Exponent(d, precision, spec.Alternate),
                    'f' => TemplateNumberFormat.Fixed(d, precision, spec.Alternate),
                    _ => TemplateNumberFormat.General(d, precision, spec.Alternate),
                };
                if (char.IsUpper(type)) body = body.ToUpperInvariant();
                break;
            }
            default:
                throw new TemplateException($"line {line}: unsupported format character '{type}'");
        }
        string sign = !numeric ? "" : negative ? "-" : spec.Sign is '+' or ' ' ? spec.Sign.ToString() : "";
        int length = TemplateText.Length(body) + sign.Length;
        if (length >= spec.Width) return sign + body;
        int pad = (int)spec.Width - length;
        if (spec.Left) return sign + body + new string(' ', pad);
        if (spec.Zero && numeric)
        {
            int prefix = body.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || body.StartsWith("0o", StringComparison.Ordinal) ? 2 : 0;
            return sign + body[..prefix] + new string('0', pad) + body[prefix..];
        }
        return new string(' ', pad) + sign + body;
    }
}
