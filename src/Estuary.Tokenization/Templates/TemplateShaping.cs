// Jinja's filters that shape numbers, text and sequences, as filters.py writes them over Python's built-ins: round (Python's
// round, half to even on the float's exact value, or math.ceil/floor at a precision), indent (over str.splitlines),
// wordcount (re's \w+), center (str.center), batch and slice. Invariant: lengths and widths count code points as Python's
// len does; an argument Python would refuse fails naming the filter and the line.
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Estuary.Tokenization.Templates;

internal static class TemplateShaping
{
    /// <summary>round(value, precision=0, method='common'): an int stays an int under 'common', as Python's round(int, n).</summary>
    public static object? Round(object? value, object? precision, object? method, int line)
    {
        if (method is not ("common" or "ceil" or "floor")) throw new TemplateException($"line {line}: round's method must be common, ceil or floor");
        if (precision is null && method is "common" && TemplateValues.IsNumber(value)) // round(x, None): Python's int result
        {
            if (value is long or bool) return value is bool b0 ? (b0 ? 1L : 0L) : value;
            double r = Math.Round((double)value!, MidpointRounding.ToEven);
            if (double.IsNaN(r) || double.IsInfinity(r) || Math.Abs(r) >= 9.2e18) throw new TemplateException($"line {line}: cannot round {TemplateValues.FloatText(r)} to an integer");
            return (long)r;
        }
        if (precision is not (long or bool)) throw new TemplateException($"line {line}: round's precision must be an integer, not {TemplateValues.TypeName(precision)}");
        long n = precision is bool pb ? (pb ? 1 : 0) : (long)precision;
        if (!TemplateValues.IsNumber(value)) throw new TemplateException($"line {line}: cannot round {TemplateValues.TypeName(value)}");
        if (method is "common")
        {
            if (value is long or bool) return RoundInteger(value is bool b ? (b ? 1 : 0) : (long)value, n, line);
            return RoundHalfEven((double)value!, n);
        }
        // math.ceil/floor(value * 10**precision) / 10**precision: an int when value and precision are ints, until the division.
        if (value is long or bool && n >= 0) return TemplateValues.ToDouble(value); // int * 10**n / 10**n, correctly rounded
        double scaled = TemplateValues.ToDouble(value) * Math.Pow(10, n);
        if (double.IsNaN(scaled) || double.IsInfinity(scaled)) throw new TemplateException($"line {line}: cannot convert {TemplateValues.FloatText(scaled)} to an integer");
        double whole = method is "ceil" ? Math.Ceiling(scaled) : Math.Floor(scaled);
        if (Math.Pow(10, n) == 0) throw new TemplateException($"line {line}: float division by zero (10**{n} is 0.0)");
        return whole / Math.Pow(10, n) + 0.0; // + 0.0: math.ceil/floor give an int, so -0.0 comes back as 0.0
    }

    // Python's round(int, n): unchanged for n >= 0, else to a multiple of 10**-n, halves to even.
    private static long RoundInteger(long v, long n, int line)
    {
        if (n >= 0) return v;
        if (n < -18) return 0;
        var p = BigInteger.Pow(10, (int)-n);
        var q = BigInteger.DivRem(BigInteger.Abs(v), p, out var r);
        if (r * 2 > p || r * 2 == p && !q.IsEven) q += 1;
        var rounded = v < 0 ? -q * p : q * p;
        return rounded >= long.MinValue && rounded <= long.MaxValue ? (long)rounded
            : throw new TemplateException($"line {line}: round({v}, {n}) is too large for a chat template");
    }

    // Python's round(float, n): the float's exact value rounded at n decimals, halves to even, read back correctly rounded.
    private static double RoundHalfEven(double x, long n)
    {
        if (double.IsNaN(x) || double.IsInfinity(x) || x == 0) return x;
        if (n > 330) return x;
        if (n < -330) return 0.0 * Math.Sign(x);
        long bits = BitConverter.DoubleToInt64Bits(Math.Abs(x));
        int exponent = (int)(bits >> 52);
        long mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0) exponent = 1; else mantissa |= 1L << 52;
        exponent -= 1075; // |x| = mantissa * 2**exponent
        BigInteger num = mantissa, den = BigInteger.One;
        if (exponent >= 0) num <<= exponent; else den <<= -exponent;
        if (n >= 0) num *= BigInteger.Pow(10, (int)n); else den *= BigInteger.Pow(10, (int)-n);
        var q = BigInteger.DivRem(num, den, out var r);
        if (r * 2 > den || r * 2 == den && !q.IsEven) q += 1;
        double result = double.Parse(q.ToString(CultureInfo.InvariantCulture) + "E" + (-n).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        return x < 0 ? -result : result;
    }

    /// <summary>indent(s, width=4, first=False, blank=False): lines after the first (and blank ones only when asked) prefixed.</summary>
    public static string Indent(object? value, object? width, bool first, bool blank, int line)
    {
        if (value is not string s) throw new TemplateException($"line {line}: indent of {TemplateValues.TypeName(value)}, not a string");
        string indention = width switch
        {
            string w => w,
            long l => new string(' ', (int)Math.Clamp(l, 0, 1 << 20)),
            bool b => b ? " " : "",
            _ => throw new TemplateException($"line {line}: indent's width must be an integer or a string, not {TemplateValues.TypeName(width)}"),
        };
        var lines = SplitLines(s + "\n");
        string rv;
        if (blank) rv = string.Join("\n" + indention, lines);
        else
        {
            rv = lines[0];
            if (lines.Count > 1) rv += "\n" + string.Join("\n", lines.Skip(1).Select(l => l.Length > 0 ? indention + l : l));
        }
        return first ? indention + rv : rv;
    }

    /// <summary>Python's str.splitlines(): breaks at \n, \r, \r\n, \v, \f, \x1c–\x1e, \x85, U+2028 and U+2029.</summary>
    public static List<string> SplitLines(string s)
    {
        var lines = new List<string>();
        int start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c is not ('\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029')) continue;
            lines.Add(s[start..i]);
            if (c == '\r' && i + 1 < s.Length && s[i + 1] == '\n') i++;
            start = i + 1;
        }
        if (start < s.Length) lines.Add(s[start..]);
        return lines;
    }

    /// <summary>wordcount: the runs of Python's \w (letters, digits and other numbers, '_') in str(value).</summary>
    public static long WordCount(object? value)
    {
        long count = 0;
        bool inWord = false;
        foreach (var rune in TemplateValues.ToText(value).EnumerateRunes())
        {
            bool word = rune.Value == '_' || Rune.IsLetter(rune) || Rune.GetUnicodeCategory(rune) is UnicodeCategory.DecimalDigitNumber
                or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber;
            if (word && !inWord) count++;
            inWord = word;
        }
        return count;
    }

    /// <summary>center(value, width=80): Python's str.center, the odd space going left when the width is odd.</summary>
    public static string Center(object? value, object? width, int line)
    {
        if (width is not (long or bool)) throw new TemplateException($"line {line}: center's width must be an integer, not {TemplateValues.TypeName(width)}");
        long w = width is bool b ? (b ? 1 : 0) : (long)width;
        string s = TemplateValues.ToText(value);
        long length = s.EnumerateRunes().Count();
        if (w <= length) return s;
        if (w > 1 << 20) throw new TemplateException($"line {line}: center's width {w} is too large for a chat template");
        long margin = w - length, left = margin / 2 + (margin & w & 1);
        return new string(' ', (int)left) + s + new string(' ', (int)(margin - left));
    }

    /// <summary>batch(value, linecount, fill_with=None): lists of linecount items, the last filled up when fill_with is given.</summary>
    public static List<object?> Batch(List<object?> items, object? linecount, object? fill, bool filling, int line)
    {
        // Python compares len(tmp) == linecount, so a count that is no number never closes a batch (and fails only to fill).
        var result = new List<object?>();
        var tmp = new List<object?>();
        foreach (var item in items)
        {
            if (TemplateValues.AreEqual((long)tmp.Count, linecount))
            {
                result.Add(tmp);
                tmp = [];
            }
            tmp.Add(item);
        }
        if (tmp.Count > 0)
        {
            if (filling && TemplateOrdering.Less((long)tmp.Count, linecount, line))
            {
                if (linecount is not long count) throw new TemplateException($"line {line}: batch fills up to an integer count, not {TemplateValues.TypeName(linecount)}");
                tmp.AddRange(Enumerable.Repeat(fill, (int)Math.Min(count - tmp.Count, 1 << 20)));
            }
            result.Add(tmp);
        }
        return result;
    }

    /// <summary>slice(value, slices, fill_with=None): slices columns, the first length % slices one item longer.</summary>
    public static List<object?> Slice(List<object?> seq, object? slices, object? fill, bool filling, int line)
    {
        if (slices is not long n) throw new TemplateException($"line {line}: slice needs an integer count, not {TemplateValues.TypeName(slices)}");
        if (n == 0) throw new TemplateException($"line {line}: slice into 0 parts (integer division by zero)");
        if (n > 1 << 20) throw new TemplateException($"line {line}: slice into {n} parts is too many for a chat template");
        long length = seq.Count, perSlice = (long)Math.Floor((double)length / n), extra = ((length % n) + n) % n, offset = 0;
        var result = new List<object?>();
        for (long k = 0; k < n; k++)
        {
            long start = offset + k * perSlice;
            if (k < extra) offset++;
            long end = offset + (k + 1) * perSlice;
            var tmp = new List<object?>();
            for (long i = Math.Clamp(start, 0, length); i < Math.Clamp(end, 0, length); i++) tmp.Add(seq[(int)i]);
            if (filling && k >= extra) tmp.Add(fill);
            result.Add(tmp);
        }
        return result;
    }
}
