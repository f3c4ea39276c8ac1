// Python's number formatting for '%' and str.format: floats in fixed ('f'), exponent ('e') and general ('g') notation from the
// double's exact value, halves rounded to even as Python's (David Gay's) conversion does; integers in bases 2, 8, 10, 16.
// Invariant: the digits equal Python's for every double and precision (no .NET format string rounds for us).
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Estuary.Tokenization.Templates;

internal static class TemplateNumberFormat
{
    /// <summary>Precision past which a format is refused (Python allows more; chat templates never need it).</summary>
    public const int MaxPrecision = 400;

    /// <summary>|x| (finite) as an exact fraction num / den.</summary>
    private static (BigInteger Num, BigInteger Den) Exact(double x)
    {
        long bits = BitConverter.DoubleToInt64Bits(Math.Abs(x));
        int exponent = (int)(bits >> 52);
        long mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0) exponent = 1; else mantissa |= 1L << 52;
        exponent -= 1075;
        BigInteger num = mantissa, den = BigInteger.One;
        if (exponent >= 0) num <<= exponent; else den <<= -exponent;
        return (num, den);
    }

    private static BigInteger RoundHalfEven(BigInteger num, BigInteger den)
    {
        var q = BigInteger.DivRem(num, den, out var r);
        if (r * 2 > den || r * 2 == den && !q.IsEven) q += 1;
        return q;
    }

    /// <summary>The digits of |x| with <paramref name="precision"/> decimals ('f'), without a sign.</summary>
    public static string Fixed(double x, int precision, bool alternate = false)
    {
        if (!double.IsFinite(x)) return NonFinite(x);
        var (num, den) = Exact(x);
        var q = RoundHalfEven(num * BigInteger.Pow(10, precision), den).ToString(CultureInfo.InvariantCulture);
        if (precision == 0) return alternate ? q + "." : q;
        q = q.PadLeft(precision + 1, '0');
        return q[..^precision] + "." + q[^precision..];
    }

    /// <summary>|x| as d.ddde±XX with <paramref name="precision"/> digits after the point ('e'), without a sign.</summary>
    public static string Exponent(double x, int precision, bool alternate = false)
    {
        if (!double.IsFinite(x)) return NonFinite(x);
        var (digits, exp) = Significant(x, precision + 1);
        string mantissa = digits.Length == 1 ? digits + (alternate ? "." : "") : digits[0] + "." + digits[1..];
        return mantissa + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
    }

    // |x| rounded to n significant digits: the digits and the decimal exponent of the first.
    private static (string Digits, int Exponent) Significant(double x, int n)
    {
        if (x == 0) return (new string('0', n), 0);
        var (num, den) = Exact(x);
        int exp = (int)Math.Floor(Math.Log10(Math.Abs(x)));
        for (int attempt = 0; attempt < 3; attempt++) // the logarithm can be one off near powers of ten
        {
            int shift = n - 1 - exp;
            var q = shift >= 0 ? RoundHalfEven(num * BigInteger.Pow(10, shift), den) : RoundHalfEven(num, den * BigInteger.Pow(10, -shift));
            var text = q.ToString(CultureInfo.InvariantCulture);
            if (text.Length == n) return (text, exp);
            if (text.Length > n)
            {
                // either exp was too small, or rounding carried into a new digit (9.99 → 10.0)
                var lower = shift - 1 >= 0 ? num * BigInteger.Pow(10, shift - 1) / den : num / (den * BigInteger.Pow(10, 1 - shift));
                if (lower.ToString(CultureInfo.InvariantCulture).Length >= n) { exp++; continue; }
                return (text[..n], exp + 1);
            }
            exp--;
        }
        throw new InvalidOperationException("significant digits did not converge");
    }

    /// <summary>Python's 'g': <paramref name="precision"/> significant digits (0 reads as 1), fixed notation for decimal
    /// exponents from -4 up to the precision, trailing zeros dropped unless <paramref name="alternate"/>.</summary>
    public static string General(double x, int precision, bool alternate = false)
    {
        if (!double.IsFinite(x)) return NonFinite(x);
        int p = precision == 0 ? 1 : precision;
        var (_, exp) = Significant(x, p);
        string text = exp >= -4 && exp < p ? Fixed(x, p - 1 - exp, alternate) : Exponent(x, p - 1, alternate);
        if (alternate) return text;
        int e = text.IndexOf('e');
        string mantissa = e < 0 ? text : text[..e], suffix = e < 0 ? "" : text[e..];
        if (mantissa.Contains('.')) mantissa = mantissa.TrimEnd('0').TrimEnd('.');
        return mantissa + suffix;
    }

    private static string NonFinite(double x) => double.IsNaN(x) ? "nan" : "inf";

    /// <summary>|n| in base 2, 8, 10 or 16 (lower-case digits).</summary>
    public static string Integer(BigInteger n, int radix)
    {
        n = BigInteger.Abs(n);
        if (radix == 10) return n.ToString(CultureInfo.InvariantCulture);
        if (n.IsZero) return "0";
        var sb = new StringBuilder();
        while (!n.IsZero)
        {
            sb.Insert(0, "0123456789abcdef"[(int)(n % radix)]);
            n /= radix;
        }
        return sb.ToString();
    }

    /// <summary>Digits grouped by threes from the right with <paramref name="separator"/> (the part before any point).</summary>
    public static string Group(string digits, char separator, int every = 3)
    {
        int point = digits.IndexOfAny(['.', 'e', 'E']);
        string whole = point < 0 ? digits : digits[..point], rest = point < 0 ? "" : digits[point..];
        var sb = new StringBuilder();
        for (int i = 0; i < whole.Length; i++)
        {
            if (i > 0 && (whole.Length - i) % every == 0) sb.Append(separator);
            sb.Append(whole[i]);
        }
        return sb + rest;
    }
}
