// The exact value of a JSON number's text as Mantissa × 10^Exponent (no rounding through double), for schema bounds.
// Invariant: only numbers whose integer part has at most MaxDigits digits and whose exponent is within ±MaxExponent parse.
using System.Globalization;
using System.Numerics;

namespace Estuary.Engine.Structured;

/// <summary>A decimal number held exactly.</summary>
internal readonly record struct JsonDecimal(BigInteger Mantissa, int Exponent)
{
    /// <summary>Most digits of a bound's integer part (bounds beyond ±10^100 are not supported).</summary>
    public const int MaxDigits = 100;

    private const int MaxExponent = 10_000;

    /// <summary>The value of <paramref name="text"/>, a JSON number; null when it is outside the supported range.</summary>
    public static JsonDecimal? Parse(string text)
    {
        int i = 0;
        bool negative = text.StartsWith('-');
        if (negative) i++;
        var digits = new System.Text.StringBuilder();
        int fractionDigits = 0;
        for (; i < text.Length && char.IsAsciiDigit(text[i]); i++) digits.Append(text[i]);
        if (i < text.Length && text[i] == '.')
        {
            for (i++; i < text.Length && char.IsAsciiDigit(text[i]); i++, fractionDigits++) digits.Append(text[i]);
        }
        long exponent = 0;
        if (i < text.Length && text[i] is 'e' or 'E')
        {
            if (!long.TryParse(text.AsSpan(i + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent)) return null;
            if (Math.Abs(exponent) > MaxExponent) return null;
        }
        else if (i != text.Length) throw new FormatException($"'{text}' is not a JSON number");
        var mantissa = BigInteger.Parse(digits.Length == 0 ? "0" : digits.ToString(), CultureInfo.InvariantCulture);
        var value = new JsonDecimal(negative ? -mantissa : mantissa, (int)(exponent - fractionDigits));
        if (!value.Mantissa.IsZero && value.Mantissa.GetBitLength() * 0.30103 + value.Exponent > MaxDigits) return null;
        return value;
    }

    public bool IsZero => Mantissa.IsZero;

    /// <summary>-1, 0 or 1 as this value is below, equal to or above <paramref name="other"/> (exactly).</summary>
    public int CompareTo(JsonDecimal other)
    {
        int exponent = Math.Min(Exponent, other.Exponent);
        return (Mantissa * BigInteger.Pow(10, Exponent - exponent)).CompareTo(other.Mantissa * BigInteger.Pow(10, other.Exponent - exponent));
    }

    /// <summary>Whether the value is a whole number.</summary>
    public bool IsInteger => Exponent >= 0 || Mantissa.IsZero || BigInteger.Remainder(Mantissa, BigInteger.Pow(10, -Exponent)).IsZero;

    /// <summary>The greatest integer ≤ the value.</summary>
    public BigInteger Floor()
    {
        if (Exponent >= 0) return Mantissa * BigInteger.Pow(10, Exponent);
        var quotient = BigInteger.DivRem(Mantissa, BigInteger.Pow(10, -Exponent), out var remainder);
        return remainder.Sign < 0 ? quotient - 1 : quotient;
    }

    /// <summary>The least integer ≥ the value.</summary>
    public BigInteger Ceiling() => -new JsonDecimal(-Mantissa, Exponent).Floor();
}
