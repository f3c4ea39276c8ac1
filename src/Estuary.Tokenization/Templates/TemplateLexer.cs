// Splits a chat template (the Jinja subset Hugging Face chat templates use) into text, {{ expression }} and {% statement %}
// pieces, applying Jinja's whitespace rules as Hugging Face configures them: trim_blocks, lstrip_blocks and the '-' markers.
// Invariant: pieces come in source order; expression and statement pieces carry their tokens and the line they start on.
using System.Globalization;
using System.Text;

namespace Estuary.Tokenization.Templates;

internal enum PieceKind { Text, Output, Statement }

internal enum TokenKind { Name, String, Integer, Float, Operator, End }

internal readonly record struct TemplateToken(TokenKind Kind, string Text, int Line)
{
    public bool Is(string op) => Kind == TokenKind.Operator && Text == op;
    public bool IsName(string name) => Kind == TokenKind.Name && Text == name;
    public override string ToString() => Kind == TokenKind.End ? "the end of the tag" : $"'{Text}'";
}

internal sealed record TemplatePiece(PieceKind Kind, string Text, List<TemplateToken> Tokens, int Line);

internal static class TemplateLexer
{
    private static readonly string[] s_operators =
        ["//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", "="];

    public static List<TemplatePiece> Split(string source)
    {
        // Jinja reads every line break as \n and drops one at the very end (keep_trailing_newline is off).
        source = source.Replace("\r\n", "\n").Replace('\r', '\n');
        if (source.EndsWith('\n')) source = source[..^1];
        var pieces = new List<TemplatePiece>();
        int pos = 0, line = 1;
        bool lineStarting = true; // the text about to be read begins a line (lstrip_blocks)
        while (pos <= source.Length)
        {
            int open = FindTagStart(source, pos);
            string text = source[pos..(open < 0 ? source.Length : open)];
            if (open < 0)
            {
                if (text.Length > 0) pieces.Add(new TemplatePiece(PieceKind.Text, text, [], line));
                break;
            }
            char kind = source[open + 1]; // '{', '%' or '#'
            int inner = open + 2;
            bool stripBefore = inner < source.Length && source[inner] == '-';
            bool keepIndent = kind != '{' && inner < source.Length && source[inner] == '+';
            if (stripBefore || keepIndent) inner++;
            if (stripBefore) text = TemplateMethods.PyStrip(text, start: false, end: true);
            else if (kind != '{' && !keepIndent)
            {
                // lstrip_blocks: spaces and tabs between a line's start and a statement or comment are dropped.
                int lineStart = text.LastIndexOf('\n') + 1;
                if ((lineStart > 0 || lineStarting) && lineStart < text.Length && text.AsSpan(lineStart).TrimStart(" \t").IsEmpty) text = text[..lineStart];
            }
            if (text.Length > 0) pieces.Add(new TemplatePiece(PieceKind.Text, text, [], line));
            line += Count(source, pos, open, '\n');

            string close = kind switch { '{' => "}}", '%' => "%}", _ => "#}" };
            int end = source.IndexOf(close, inner, StringComparison.Ordinal);
            if (kind != '#') end = FindClose(source, inner, close, line);
            if (end < 0) throw new TemplateException($"line {line}: '{source.Substring(open, 2)}' is never closed with '{close}'");
            bool stripAfter = end > inner && source[end - 1] == '-';
            bool keepNewline = kind != '{' && end > inner && source[end - 1] == '+'; // '+%}': no trim_blocks here
            string body = source[inner..(stripAfter || keepNewline ? end - 1 : end)];
            int tagLine = line;
            line += Count(source, open, end, '\n');
            pos = end + 2;
            int after = pos;
            if (stripAfter) // '-%}': the white space after the tag goes
                while (pos < source.Length && TemplateMethods.PyStrip(source[pos].ToString(), true, true).Length == 0) pos++;
            else if (kind != '{' && !keepNewline && pos < source.Length && source[pos] == '\n') pos++; // trim_blocks
            line += Count(source, after, pos, '\n');
            // Jinja's line_starting: the tag's match (with what it consumed) ended in a line break.
            lineStarting = pos > after && source[pos - 1] == '\n';
            if (kind == '#') continue;
            var tokens = Tokenize(body, tagLine);
            pieces.Add(new TemplatePiece(kind == '{' ? PieceKind.Output : PieceKind.Statement, body, tokens, tagLine));
        }
        return pieces;
    }

    private static int FindTagStart(string s, int from)
    {
        for (int i = s.IndexOf('{', from); i >= 0 && i + 1 < s.Length; i = s.IndexOf('{', i + 1))
            if (s[i + 1] is '{' or '%' or '#') return i;
        return -1;
    }

    // The closing delimiter outside string literals and brackets, as Jinja's lexer finds it: "}}" may appear inside a quoted
    // string or a dict literal of the expression ({{ {'a': {'b': 1}} }}), and ends the tag only once every bracket is closed.
    private static int FindClose(string s, int from, string close, int line)
    {
        char quote = '\0';
        int depth = 0;
        for (int i = from; i + 1 < s.Length; i++)
        {
            char c = s[i];
            if (quote != '\0')
            {
                if (c == '\\') i++;
                else if (c == quote) quote = '\0';
            }
            else if (c is '\'' or '"') quote = c;
            else if (depth == 0 && c == close[0] && s[i + 1] == close[1]) return i;
            else if (c is '(' or '[' or '{') depth++;
            else if (c is ')' or ']' or '}' && depth > 0) depth--;
        }
        if (quote != '\0') throw new TemplateException($"line {line}: a string literal is never closed");
        return -1;
    }

    private static int DigitValue(char c) =>
        char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiHexDigit(c) ? 10 + char.ToLowerInvariant(c) - 'a' : int.MaxValue;

    private static int Count(string s, int from, int to, char c)
    {
        int n = 0;
        for (int i = from; i < to && i < s.Length; i++) if (s[i] == c) n++;
        return n;
    }

    private static List<TemplateToken> Tokenize(string body, int line)
    {
        var tokens = new List<TemplateToken>();
        int i = 0;
        while (i < body.Length)
        {
            char c = body[i];
            if (c == '\n') line++;
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            if (char.IsAsciiLetter(c) || c == '_')
            {
                int start = i;
                while (i < body.Length && (char.IsAsciiLetterOrDigit(body[i]) || body[i] == '_')) i++;
                tokens.Add(new TemplateToken(TokenKind.Name, body[start..i], line));
            }
            else if (c == '0' && i + 2 < body.Length && char.ToLowerInvariant(body[i + 1]) is 'x' or 'o' or 'b')
            {
                // 0x1F, 0o17, 0b101 (underscores between digits), as Jinja's integer literals
                int radix = char.ToLowerInvariant(body[i + 1]) switch { 'x' => 16, 'o' => 8, _ => 2 };
                int start = i + 2;
                i = start;
                while (i < body.Length && (body[i] == '_' || DigitValue(body[i]) < radix)) i++;
                string digits = body[start..i].Replace("_", "");
                if (digits.Length == 0) throw new TemplateException($"line {line}: a number literal '{body[(start - 2)..i]}' without digits");
                long value = 0;
                foreach (char ch in digits)
                    value = checked(value * radix + DigitValue(ch));
                tokens.Add(new TemplateToken(TokenKind.Integer, value.ToString(CultureInfo.InvariantCulture), line));
            }
            else if (char.IsAsciiDigit(c))
            {
                int start = i;
                while (i < body.Length && (char.IsAsciiDigit(body[i]) || body[i] == '_')) i++;
                bool isFloat = false;
                if (i + 1 < body.Length && body[i] == '.' && char.IsAsciiDigit(body[i + 1]))
                {
                    isFloat = true;
                    i++;
                    while (i < body.Length && char.IsAsciiDigit(body[i])) i++;
                }
                if (i < body.Length && body[i] is 'e' or 'E')
                {
                    int j = i + 1;
                    if (j < body.Length && body[j] is '+' or '-') j++;
                    if (j < body.Length && char.IsAsciiDigit(body[j]))
                    {
                        isFloat = true;
                        i = j;
                        while (i < body.Length && char.IsAsciiDigit(body[i])) i++;
                    }
                }
                tokens.Add(new TemplateToken(isFloat ? TokenKind.Float : TokenKind.Integer, body[start..i].Replace("_", ""), line));
            }
            else if (c is '\'' or '"')
            {
                int j = i + 1;
                while (j < body.Length && body[j] != c) j += body[j] == '\\' ? 2 : 1;
                if (j >= body.Length) throw new TemplateException($"line {line}: a string literal is never closed");
                tokens.Add(new TemplateToken(TokenKind.String, TemplateStringLiteral.Decode(body[(i + 1)..j], line), line));
                line += Count(body, i, j, '\n');
                i = j + 1;
            }
            else
            {
                var op = s_operators.FirstOrDefault(o => string.CompareOrdinal(body, i, o, 0, o.Length) == 0)
                    ?? throw new TemplateException($"line {line}: unexpected character '{c}'");
                tokens.Add(new TemplateToken(TokenKind.Operator, op, line));
                i += op.Length;
            }
        }
        tokens.Add(new TemplateToken(TokenKind.End, "", line));
        return tokens;
    }
}
