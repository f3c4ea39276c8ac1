// Reads the Python expressions a "pythonic" tool call's arguments are written in — literals only: strings ('…', "…", triple
// quoted, with Python's escapes, adjacent ones joined), numbers (ints in any base with underscores, floats, a leading sign),
// True, False, None, lists and dicts with string keys — and writes each as JSON, the way the call's arguments are returned.
// Invariant: a text is read only if it is such a literal; anything else (a name, a call, a tuple, a set, an f-string, an
// operator other than a sign) is refused, so nothing is guessed.
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Estuary.Engine.Tools;

/// <summary>A cursor over Python source that reads literal values into JSON.</summary>
internal sealed partial class PythonLiteralReader(string text, int position = 0)
{
    private const int MaxDepth = 64;

    /// <summary>Where the cursor is.</summary>
    public int Position { get; private set; } = position;

    /// <summary>The character at the cursor, or '\0' at the end.</summary>
    public char Peek => Position < text.Length ? text[Position] : '\0';

    /// <summary>Whether the cursor is at the end of the text.</summary>
    public bool AtEnd => Position >= text.Length;

    /// <summary>Skips spaces, tabs and line breaks (Python allows them anywhere inside brackets).</summary>
    public void SkipSpace()
    {
        while (Position < text.Length && text[Position] is ' ' or '\t' or '\n' or '\r' or '\f') Position++;
    }

    /// <summary>Consumes <paramref name="c"/> (after spaces) and returns true, or leaves the cursor and returns false.</summary>
    public bool Take(char c)
    {
        SkipSpace();
        if (Peek != c) return false;
        Position++;
        return true;
    }

    /// <summary>An identifier (letters, digits, underscores, not starting with a digit) at the cursor, after spaces, or null.</summary>
    public string? Identifier()
    {
        SkipSpace();
        int start = Position;
        if (Position < text.Length && (char.IsLetter(text[Position]) || text[Position] == '_'))
            while (Position < text.Length && (char.IsLetterOrDigit(text[Position]) || text[Position] == '_')) Position++;
        return Position > start ? text[start..Position] : null;
    }

    /// <summary>Reads one literal at the cursor into <paramref name="json"/>; false (cursor anywhere) when it is not one.</summary>
    public bool Value(Utf8JsonWriter json) => Value(json, 0);

    private bool Value(Utf8JsonWriter json, int depth)
    {
        if (depth > MaxDepth) return false;
        SkipSpace();
        char c = Peek;
        if (c == '[') return List(json, depth);
        if (c == '{') return Dict(json, depth);
        if (c is '\'' or '"')
        {
            if (Strings() is not { } s) return false;
            json.WriteStringValue(s);
            return true;
        }
        if (c is '-' or '+' or '.' || char.IsAsciiDigit(c)) return Number(json);
        int start = Position;
        switch (Identifier())
        {
            case "True": json.WriteBooleanValue(true); return true;
            case "False": json.WriteBooleanValue(false); return true;
            case "None": json.WriteNullValue(); return true;
            default: Position = start; return false;
        }
    }

    private bool List(Utf8JsonWriter json, int depth)
    {
        Position++; // [
        json.WriteStartArray();
        while (!Take(']'))
        {
            if (!Value(json, depth + 1)) return false;
            if (!Take(',') && !(Take(']') && Back())) return false;
        }
        json.WriteEndArray();
        return true;
    }

    private bool Dict(Utf8JsonWriter json, int depth)
    {
        Position++; // {
        json.WriteStartObject();
        while (!Take('}'))
        {
            SkipSpace();
            if (Peek is not ('\'' or '"') || Strings() is not { } key || !Take(':')) return false;
            json.WritePropertyName(key);
            if (!Value(json, depth + 1)) return false;
            if (!Take(',') && !(Take('}') && Back())) return false;
        }
        json.WriteEndObject();
        return true;
    }

    /// <summary>Steps back over the one character just taken (a closing bracket, which the caller's loop then takes itself).</summary>
    public void StepBack() => Position--;

    private bool Back()
    {
        StepBack();
        return true;
    }

    // One or more adjacent string literals (Python joins them), or null when the text is not a well-formed string.
    private string? Strings()
    {
        var joined = new StringBuilder();
        do
        {
            if (!OneString(joined)) return null;
            SkipSpace();
        }
        while (Peek is '\'' or '"');
        return joined.ToString();
    }

    private bool OneString(StringBuilder into)
    {
        char quote = text[Position];
        bool triple = Position + 2 < text.Length && text[Position + 1] == quote && text[Position + 2] == quote;
        Position += triple ? 3 : 1;
        while (Position < text.Length)
        {
            char c = text[Position];
            if (c == quote && (!triple || (Position + 2 < text.Length && text[Position + 1] == quote && text[Position + 2] == quote)))
            {
                Position += triple ? 3 : 1;
                return true;
            }
            if (c == '\n' && !triple) return false;
            if (c != '\\')
            {
                into.Append(c);
                Position++;
                continue;
            }
            if (!Escape(into)) return false;
        }
        return false; // never closed
    }

    // One backslash escape at the cursor, as Python reads it in a plain (not raw, not bytes) string.
    private bool Escape(StringBuilder into)
    {
        if (Position + 1 >= text.Length) return false;
        char e = text[Position + 1];
        Position += 2;
        switch (e)
        {
            case '\n': return true; // a line continuation
            case '\\': into.Append('\\'); return true;
            case '\'': into.Append('\''); return true;
            case '"': into.Append('"'); return true;
            case 'a': into.Append('\a'); return true;
            case 'b': into.Append('\b'); return true;
            case 'f': into.Append('\f'); return true;
            case 'n': into.Append('\n'); return true;
            case 'r': into.Append('\r'); return true;
            case 't': into.Append('\t'); return true;
            case 'v': into.Append('\v'); return true;
            case 'x': return Hex(into, 2);
            case 'u': return Hex(into, 4);
            case 'U': return Hex(into, 8);
            case >= '0' and <= '7':
                int value = e - '0';
                for (int i = 0; i < 2 && Position < text.Length && text[Position] is >= '0' and <= '7'; i++) value = value * 8 + text[Position++] - '0';
                into.Append((char)value);
                return true;
            default:
                // Python keeps an unknown escape as written (and warns).
                into.Append('\\').Append(e);
                return true;
        }
    }

    private bool Hex(StringBuilder into, int digits)
    {
        if (Position + digits > text.Length ||
            !int.TryParse(text.AsSpan(Position, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code) ||
            code > 0x10FFFF || code is >= 0xD800 and <= 0xDFFF)
            return false;
        Position += digits;
        into.Append(char.ConvertFromUtf32(code));
        return true;
    }

    // An int (decimal, 0x, 0o, 0b; underscores between digits) or a float, with one leading sign, written as a JSON number.
    private bool Number(Utf8JsonWriter json)
    {
        bool negative = false;
        if (Peek is '-' or '+')
        {
            negative = Peek == '-';
            Position++;
            SkipSpace();
        }
        int start = Position;
        while (Position < text.Length && (char.IsAsciiLetterOrDigit(text[Position]) || text[Position] is '_' or '.' ||
               (text[Position] is '+' or '-' && Position > start && text[Position - 1] is 'e' or 'E' && !IsRadixPrefixed(start))))
            Position++;
        var token = text[start..Position];
        if (token.Length == 0 || token.StartsWith('_') || token.EndsWith('_') || token.Contains("__", StringComparison.Ordinal)) return false;
        var digits = token.Replace("_", "", StringComparison.Ordinal);
        if (IntegerValue(digits) is { } integer)
        {
            json.WriteRawValue((negative ? -integer : integer).ToString(CultureInfo.InvariantCulture));
            return true;
        }
        if (digits.All(char.IsAsciiDigit)) return false; // an int Python refuses (0123)
        if (digits.Any(c => char.IsAsciiLetter(c) && c is not ('e' or 'E')) ||
            !double.TryParse(digits, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out double d) ||
            !double.IsFinite(d))
            return false;
        // A float stays a float: as written when that is JSON (1.50, 2e-3), else its shortest form with a point (5. → 5.0).
        var written = JsonNumber().IsMatch(digits) ? digits : d.ToString("R", CultureInfo.InvariantCulture);
        if (!written.Contains('.') && !written.Contains('E') && !written.Contains('e')) written += ".0";
        json.WriteRawValue(negative ? "-" + written : written);
        return true;
    }

    [GeneratedRegex(@"^(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")]
    private static partial Regex JsonNumber();

    private bool IsRadixPrefixed(int start) =>
        start + 1 < text.Length && text[start] == '0' && text[start + 1] is 'x' or 'X' or 'o' or 'O' or 'b' or 'B';

    // The value of an integer literal (decimal without leading zeros unless zero, or 0x/0o/0b), or null.
    private static BigInteger? IntegerValue(string digits)
    {
        if (digits.Length > 2 && digits[0] == '0' && char.IsAsciiLetter(digits[1]))
        {
            int radix = char.ToLowerInvariant(digits[1]) switch { 'x' => 16, 'o' => 8, 'b' => 2, _ => 0 };
            if (radix == 0) return null;
            BigInteger value = 0;
            foreach (char c in digits.AsSpan(2))
            {
                int d = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiHexDigit(c) ? char.ToLowerInvariant(c) - 'a' + 10 : 99;
                if (d >= radix) return null;
                value = value * radix + d;
            }
            return value;
        }
        if (!digits.All(char.IsAsciiDigit)) return null;
        if (digits.Length > 1 && digits[0] == '0' && digits.Any(c => c != '0')) return null; // Python refuses 0123
        return BigInteger.Parse(digits, CultureInfo.InvariantCulture);
    }
}
