// The value of a quoted string in a template, as Jinja's lexer computes it: line breaks normalized to \n, then the text read
// with Python's unicode-escape codec after writing non-ASCII characters as backslash escapes ("…".encode("ascii",
// "backslashreplace").decode("unicode-escape")). Invariant: the escapes Python knows are decoded (\n \t \\ \' \x41 \u00e9
// \U0001F600 \101 …), unknown ones stay as written, malformed ones fail naming the line; \N{name} is refused (no name table).
using System.Globalization;
using System.Text;

namespace Estuary.Tokenization.Templates;

internal static class TemplateStringLiteral
{
    /// <summary>The value of a string literal whose text between the quotes is <paramref name="raw"/>.</summary>
    public static string Decode(string raw, int line)
    {
        if (!raw.Contains('\\') && !raw.Contains('\r')) return raw; // the common case: nothing to decode
        string ascii = BackslashReplace(raw.Replace("\r\n", "\n").Replace('\r', '\n'));
        var sb = new StringBuilder(ascii.Length);
        for (int i = 0; i < ascii.Length; i++)
        {
            char c = ascii[i];
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }
            if (++i >= ascii.Length) throw new TemplateException($"line {line}: a string literal ends in a lone '\\'");
            char e = ascii[i];
            switch (e)
            {
                case '\n': break; // a backslash before a line break joins the lines
                case '\\' or '\'' or '"': sb.Append(e); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'v': sb.Append('\v'); break;
                case >= '0' and <= '7':
                    int value = e - '0';
                    for (int k = 0; k < 2 && i + 1 < ascii.Length && ascii[i + 1] is >= '0' and <= '7'; k++) value = value * 8 + (ascii[++i] - '0');
                    sb.Append((char)value);
                    break;
                case 'x' or 'u' or 'U':
                    int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                    if (!HasHex(ascii, i + 1, digits)) throw Truncated(e, digits, line);
                    long code = long.Parse(ascii.AsSpan(i + 1, digits), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    if (code > 0x10FFFF) throw new TemplateException($"line {line}: illegal Unicode character in a string literal (\\{e}{ascii.Substring(i + 1, digits)})");
                    sb.Append(code <= 0xFFFF ? ((char)code).ToString() : char.ConvertFromUtf32((int)code));
                    i += digits;
                    break;
                case 'N':
                    throw new TemplateException($"line {line}: the string escape \\N{{…}} (a character by its Unicode name) is not supported in chat templates");
                default:
                    sb.Append('\\').Append(e); // Python keeps an unknown escape as written
                    break;
            }
        }
        return sb.ToString();
    }

    private static bool HasHex(string s, int from, int count)
    {
        if (from + count > s.Length) return false;
        for (int k = from; k < from + count; k++) if (!char.IsAsciiHexDigit(s[k])) return false;
        return true;
    }

    private static TemplateException Truncated(char e, int digits, int line) =>
        new($"line {line}: truncated \\{e}{new string('X', digits)} escape in a string literal");

    // Python's "backslashreplace" for ASCII: each non-ASCII character as \xhh, \uhhhh or \Uhhhhhhhh (by its code point).
    private static string BackslashReplace(string s)
    {
        if (System.Text.Ascii.IsValid(s)) return s;
        var sb = new StringBuilder(s.Length + 16);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c < 0x80)
            {
                sb.Append(c);
                continue;
            }
            int code = c;
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) code = char.ConvertToUtf32(c, s[++i]);
            sb.Append(code < 0x100 ? $"\\x{code:x2}" : code < 0x10000 ? $"\\u{code:x4}" : $"\\U{code:x8}");
        }
        return sb.ToString();
    }
}
