// Python's str where it differs from .NET's string: positions and lengths count code points (a character past U+FFFF is one,
// as in Python, not two UTF-16 units), repr() quotes and escapes as Python does, and case mapping follows Python's full
// mappings for the characters .NET maps one to one (ß → SS, ligatures, İ → i̇, a final Σ → ς).
// Invariant: for text without surrogates every helper is the plain UTF-16 operation.
using System.Globalization;
using System.Text;

namespace Estuary.Tokenization.Templates;

internal static class TemplateText
{
    /// <summary>Whether <paramref name="s"/> holds a surrogate (a character past U+FFFF), where UTF-16 positions differ from Python's.</summary>
    public static bool HasSurrogates(string s) => s.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0;

    /// <summary>Python's len(s).</summary>
    public static int Length(string s)
    {
        if (!HasSurrogates(s)) return s.Length;
        int n = 0;
        for (int i = 0; i < s.Length; i++, n++)
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
        return n;
    }

    /// <summary>The UTF-16 offsets of each code point, with s.Length appended (null when they are 0, 1, 2, …).</summary>
    private static int[]? Offsets(string s)
    {
        if (!HasSurrogates(s)) return null;
        var offsets = new List<int>(s.Length + 1);
        for (int i = 0; i < s.Length; i++)
        {
            offsets.Add(i);
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
        }
        offsets.Add(s.Length);
        return [.. offsets];
    }

    /// <summary>Python's s[i] (negative from the end), or null when out of range.</summary>
    public static string? At(string s, long i)
    {
        var offsets = Offsets(s);
        int length = offsets is null ? s.Length : offsets.Length - 1;
        if (i < 0) i += length;
        if (i < 0 || i >= length) return null;
        return offsets is null ? s[(int)i].ToString() : s[offsets[i]..offsets[i + 1]];
    }

    /// <summary>The code points of s at the given code-point positions, joined (a slice).</summary>
    public static string Pick(string s, List<int> positions)
    {
        var offsets = Offsets(s);
        var sb = new StringBuilder(positions.Count);
        foreach (int p in positions)
        {
            if (offsets is null) sb.Append(s[p]);
            else sb.Append(s, offsets[p], offsets[p + 1] - offsets[p]);
        }
        return sb.ToString();
    }

    /// <summary>Python's s[start:end] with non-negative, clamped code-point bounds.</summary>
    public static string Substring(string s, int start, int end)
    {
        var offsets = Offsets(s);
        int length = offsets is null ? s.Length : offsets.Length - 1;
        start = Math.Clamp(start, 0, length);
        end = Math.Clamp(end, start, length);
        return offsets is null ? s[start..end] : s[offsets[start]..offsets[end]];
    }

    /// <summary>Python's repr(s): single quotes unless the text has one and no double quote; \\, the quote, \t \n \r and
    /// characters Python does not print (controls, separators, format characters, …) escaped.</summary>
    public static string Repr(string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder(s.Length + 2).Append(quote);
        foreach (var rune in s.EnumerateRunes())
        {
            int c = rune.Value;
            if (c == quote || c == '\\') sb.Append('\\').Append((char)c);
            else if (c == '\t') sb.Append("\\t");
            else if (c == '\n') sb.Append("\\n");
            else if (c == '\r') sb.Append("\\r");
            else if (IsPrintable(rune)) sb.Append(rune.ToString());
            else sb.Append(c < 0x100 ? $"\\x{c:x2}" : c < 0x10000 ? $"\\u{c:x4}" : $"\\U{c:x8}");
        }
        return sb.Append(quote).ToString();
    }

    // Python's str.isprintable for one character: not a control, format, surrogate, private-use, unassigned, line or paragraph
    // separator, nor a space separator other than ' '.
    private static bool IsPrintable(Rune r) => r.Value == ' ' || Rune.GetUnicodeCategory(r) is not (UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator
        or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator);

    /// <summary>Python's str.upper(): full case mapping (ß → SS, ﬁ → FI).</summary>
    public static string Upper(string s)
    {
        if (Ascii.IsValid(s)) return s.ToUpperInvariant();
        var sb = new StringBuilder(s.Length);
        foreach (var rune in s.EnumerateRunes()) sb.Append(UpperOf(rune));
        return sb.ToString();
    }

    private static string UpperOf(Rune r) => r.Value switch
    {
        0xDF => "SS",
        0xFB00 => "FF",
        0xFB01 => "FI",
        0xFB02 => "FL",
        0xFB03 => "FFI",
        0xFB04 => "FFL",
        0xFB05 or 0xFB06 => "ST",
        0x149 => "\u02BCN",
        _ => Rune.ToUpperInvariant(r).ToString(),
    };

    /// <summary>Python's str.lower(): İ → i̇ and Σ → ς at the end of a word, otherwise the simple mapping.</summary>
    public static string Lower(string s)
    {
        if (Ascii.IsValid(s)) return s.ToLowerInvariant();
        var runes = s.EnumerateRunes().ToList();
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < runes.Count; i++)
        {
            var r = runes[i];
            if (r.Value == 0x130) sb.Append("i\u0307");
            else if (r.Value == 0x3A3) sb.Append(IsFinalSigma(runes, i) ? 'ς' : 'σ');
            else sb.Append(Rune.ToLowerInvariant(r).ToString());
        }
        return sb.ToString();
    }

    // Unicode's Final_Sigma: a cased letter before (skipping case-ignorable ones) and none after.
    private static bool IsFinalSigma(List<Rune> runes, int i)
    {
        int j = i - 1;
        while (j >= 0 && IsCaseIgnorable(runes[j])) j--;
        if (j < 0 || !IsCased(runes[j])) return false;
        int k = i + 1;
        while (k < runes.Count && IsCaseIgnorable(runes[k])) k++;
        return k >= runes.Count || !IsCased(runes[k]);
    }

    private static bool IsCaseIgnorable(Rune r) => r.Value is '\'' or '.' or ':' or '^' or '`' or 0xB7 or 0x2019
        || Rune.GetUnicodeCategory(r) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format
            or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol;

    /// <summary>A cased character (Python's notion: upper, lower or title case).</summary>
    public static bool IsCased(Rune r) => Rune.IsUpper(r) || Rune.IsLower(r) || Rune.GetUnicodeCategory(r) == UnicodeCategory.TitlecaseLetter;

    /// <summary>Python's str.title(): a cased character after a cased one is lowered, any other upper-cased.</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool previousCased = false;
        foreach (var r in s.EnumerateRunes())
        {
            sb.Append(previousCased ? Lower(r.ToString()) : TitleOf(r));
            previousCased = IsCased(r);
        }
        return sb.ToString();
    }

    private static string TitleOf(Rune r) => r.Value == 0xDF ? "Ss" : r.Value is >= 0xFB00 and <= 0xFB06 ? UpperOf(r)[0] + Lower(UpperOf(r)[1..]) : UpperOf(r);

    /// <summary>Python's str.capitalize(): the first character in title case, the rest lowered.</summary>
    public static string Capitalize(string s)
    {
        if (s.Length == 0) return s;
        var first = Rune.GetRuneAt(s, 0);
        return TitleOf(first) + Lower(s[first.Utf16SequenceLength..]);
    }

    /// <summary>Python's str.swapcase().</summary>
    public static string SwapCase(string s)
    {
        var runes = s.EnumerateRunes().ToList();
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < runes.Count; i++)
        {
            var r = runes[i];
            sb.Append(r.Value == 0x3A3 ? (IsFinalSigma(runes, i) ? "ς" : "σ") : Rune.IsUpper(r) ? Lower(r.ToString()) : Rune.IsLower(r) ? UpperOf(r) : r.ToString());
        }
        return sb.ToString();
    }

    /// <summary>Python's str.islower() (lower: false) or isupper() (upper: true): a cased character, and none of the other case.</summary>
    public static bool IsCase(string s, bool upper)
    {
        bool cased = false;
        foreach (var r in s.EnumerateRunes())
        {
            if (upper ? Rune.IsLower(r) || Rune.GetUnicodeCategory(r) == UnicodeCategory.TitlecaseLetter
                : Rune.IsUpper(r) || Rune.GetUnicodeCategory(r) == UnicodeCategory.TitlecaseLetter) return false;
            cased |= IsCased(r);
        }
        return cased;
    }
}
