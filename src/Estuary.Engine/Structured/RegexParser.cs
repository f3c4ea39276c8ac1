// Parses a structured-output regular expression (the Python/ECMAScript subset vLLM's guided_regex uses) into RegexNodes.
// Invariant: anything outside the supported subset throws GrammarException naming the construct and its position
// (a UTF-16 index into the pattern); nothing else is thrown, and nesting is bounded so parsing cannot overflow the stack.
namespace Estuary.Engine.Structured;

/// <summary>A recursive-descent parser for one regular expression.</summary>
internal sealed class RegexParser
{
    /// <summary>Deepest group nesting accepted.</summary>
    public const int MaxNesting = 200;

    private const int MaxCodePoint = 0x10FFFF;
    private static readonly (int, int)[] Digits = [('0', '9')];
    private static readonly (int, int)[] WordCharacters = [('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')];
    private static readonly (int, int)[] Spaces = [('\t', '\r'), (' ', ' ')];
    private static readonly (int, int)[] AnyButNewline = [(0, '\n' - 1), ('\n' + 1, MaxCodePoint)];

    private readonly string _pattern;
    private int _position;
    private int _depth;

    private RegexParser(string pattern) => _pattern = pattern;

    /// <summary>The whole of <paramref name="pattern"/> as a node (to be matched against the full text).</summary>
    public static RegexNode Parse(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        var parser = new RegexParser(pattern);
        var node = parser.ParseAlternation();
        if (parser._position < pattern.Length)
            throw Invalid("unbalanced ')' (no group is open)", parser._position);
        return node;
    }

    private bool AtEnd => _position >= _pattern.Length;

    private char Current => _pattern[_position];

    private static GrammarException Invalid(string problem, int position) =>
        new($"invalid regular expression at position {position}: {problem}");

    private static GrammarException Unsupported(string construct, int position) =>
        new($"the regular expression uses {construct} at position {position}, which structured output does not support");

    // alternation := sequence ('|' sequence)*
    private RegexNode ParseAlternation()
    {
        var options = new List<RegexNode> { ParseSequence() };
        while (!AtEnd && Current == '|')
        {
            _position++;
            options.Add(ParseSequence());
        }
        return options.Count == 1 ? options[0] : new ChoiceRegexNode(options);
    }

    // sequence := (atom quantifier?)* up to '|', ')' or the end
    private RegexNode ParseSequence()
    {
        var items = new List<RegexNode>();
        // Whether the last item may take a quantifier (false at the start, after '^', and after a quantifier).
        bool quantifiable = false;
        bool afterQuantifier = false;
        while (!AtEnd && Current is not ('|' or ')'))
        {
            int start = _position;
            if (TryParseQuantifier(out int min, out int? max))
            {
                if (afterQuantifier) throw Unsupported($"a nested quantifier ('{_pattern[start.._position]}' directly after another quantifier)", start);
                if (!quantifiable) throw Invalid($"the quantifier '{_pattern[start.._position]}' has nothing to repeat", start);
                if (max < min) throw Invalid($"the repetition '{_pattern[start.._position]}' has its maximum below its minimum", start);
                if (!AtEnd && Current == '?') _position++; // lazy: the same language
                else if (!AtEnd && Current == '+') throw Unsupported($"a possessive quantifier '{_pattern[start..(_position + 1)]}'", start);
                items[^1] = new RepeatRegexNode(items[^1], min, max, start);
                afterQuantifier = true;
                continue;
            }
            afterQuantifier = false;
            quantifiable = true;
            switch (Current)
            {
                case '^':
                    if (start != 0) throw Unsupported("'^' anywhere but at the very start", start);
                    _position++;
                    quantifiable = false;
                    break;
                case '$':
                    if (start != _pattern.Length - 1 || _depth > 0) throw Unsupported("'$' anywhere but at the very end", start);
                    _position++;
                    quantifiable = false;
                    break;
                case '(':
                    items.Add(ParseGroup());
                    break;
                case '[':
                    items.Add(ParseClass());
                    break;
                case '.':
                    _position++;
                    items.Add(new CharactersRegexNode(AnyButNewline));
                    break;
                case '\\':
                    items.Add(ParseEscape());
                    break;
                default:
                    items.Add(Single(ReadLiteral(), start));
                    break;
            }
        }
        return items.Count switch
        {
            0 => EmptyRegexNode.Instance,
            1 => items[0],
            _ => new SequenceRegexNode(items),
        };
    }

    // '*', '+', '?', '{n}', '{n,}', '{n,m}' or '{,m}'; a '{' that does not make one of these is a literal, as in Python.
    private bool TryParseQuantifier(out int min, out int? max)
    {
        min = 0;
        max = null;
        switch (Current)
        {
            case '*':
                _position++;
                return true;
            case '+':
                min = 1;
                _position++;
                return true;
            case '?':
                max = 1;
                _position++;
                return true;
            case '{':
                break;
            default:
                return false;
        }
        int p = _position + 1;
        int? low = ReadCount(ref p);
        int? high = low;
        if (p < _pattern.Length && _pattern[p] == ',')
        {
            p++;
            high = ReadCount(ref p);
            if (low is null && high is null) return false; // "{,}" is literal text
        }
        else if (low is null) return false;
        if (p >= _pattern.Length || _pattern[p] != '}') return false;
        min = low ?? 0;
        max = high;
        _position = p + 1;
        return true;
    }

    // Decimal digits at p (none: null); counts past int range are refused here, big ones later by GrammarBuilder.Repeat.
    private int? ReadCount(ref int p)
    {
        int start = p;
        long value = 0;
        while (p < _pattern.Length && char.IsAsciiDigit(_pattern[p]))
        {
            value = value * 10 + (_pattern[p] - '0');
            if (value > int.MaxValue) throw Unsupported("a repetition count that is too large", start);
            p++;
        }
        return p == start ? null : (int)value;
    }

    private RegexNode ParseGroup()
    {
        int open = _position;
        _position++;
        if (!AtEnd && Current == '?') ParseGroupPrefix(open);
        if (++_depth > MaxNesting) throw Unsupported($"groups nested deeper than {MaxNesting}", open);
        var node = ParseAlternation();
        _depth--;
        if (AtEnd) throw Invalid($"missing ')' for the group opened at position {open}", open);
        _position++;
        return node;
    }

    // After "(?": accepts ':', 'P<name>' and '<name>'; refuses lookaround, backreferences, flags and the rest.
    private void ParseGroupPrefix(int open)
    {
        _position++;
        if (AtEnd) throw Invalid("unterminated group '(?'", open);
        char c = Current;
        string rest = _pattern[open..];
        switch (c)
        {
            case ':':
                _position++;
                return;
            case '=':
                throw Unsupported("a lookahead '(?='", open);
            case '!':
                throw Unsupported("a negative lookahead '(?!'", open);
            case '>':
                throw Unsupported("an atomic group '(?>'", open);
            case '#':
                throw Unsupported("a comment group '(?#'", open);
            case '(':
                throw Unsupported("a conditional group '(?('", open);
            case '|':
                throw Unsupported("a branch-reset group '(?|'", open);
            case 'P' when rest.StartsWith("(?P=", StringComparison.Ordinal):
                throw Unsupported("a named backreference '(?P='", open);
            case 'P' when rest.StartsWith("(?P<", StringComparison.Ordinal):
                _position += 2;
                ReadGroupName(open);
                return;
            case '<' when rest.StartsWith("(?<=", StringComparison.Ordinal):
                throw Unsupported("a lookbehind '(?<='", open);
            case '<' when rest.StartsWith("(?<!", StringComparison.Ordinal):
                throw Unsupported("a negative lookbehind '(?<!'", open);
            case '<':
                _position++;
                ReadGroupName(open);
                return;
            default:
                if (c is '-' or '^' || char.IsAsciiLetter(c))
                    throw Unsupported($"inline flags '(?{c}'", open);
                throw Unsupported($"the group syntax '(?{c}'", open);
        }
    }

    // A group name [A-Za-z_][A-Za-z0-9_]* then '>'.
    private void ReadGroupName(int open)
    {
        int start = _position;
        while (!AtEnd && (char.IsAsciiLetterOrDigit(Current) || Current == '_')) _position++;
        if (AtEnd || Current != '>') throw Invalid("unterminated or malformed group name", start);
        if (_position == start || char.IsAsciiDigit(_pattern[start]))
            throw Invalid($"invalid group name '{_pattern[start.._position]}' in the group opened at position {open}", start);
        _position++;
    }

    // '[' '^'? items ']' where an item is a character, an escape, a class escape (\d \w \s and negations) or a range a-b.
    private CharactersRegexNode ParseClass()
    {
        int open = _position;
        _position++;
        bool negated = !AtEnd && Current == '^';
        if (negated) _position++;
        var ranges = new List<(int Lo, int Hi)>();
        bool first = true;
        while (true)
        {
            if (AtEnd) throw Invalid("unterminated character class '['", open);
            if (Current == ']' && !first) break;
            first = false;
            int itemStart = _position;
            if (Current == '[' && _position + 1 < _pattern.Length && _pattern[_position + 1] is ':' or '=' or '.')
                throw Unsupported($"a POSIX class '[{_pattern[_position + 1]}'", itemStart);
            var (lo, set) = ReadClassItem();
            bool isRange = !AtEnd && Current == '-' && _position + 1 < _pattern.Length && _pattern[_position + 1] != ']';
            if (!isRange)
            {
                if (set is null) ranges.Add((lo, lo));
                else ranges.AddRange(set);
                continue;
            }
            _position++;
            int hiStart = _position;
            var (hi, hiSet) = ReadClassItem();
            if (set is not null || hiSet is not null)
                throw Invalid($"the character range '{_pattern[itemStart.._position]}' has a class escape as an end", itemStart);
            if (hi < lo) throw Invalid($"the character range '{_pattern[itemStart.._position]}' is out of order", hiStart);
            ranges.Add((lo, hi));
        }
        _position++;
        var normalized = Normalize(negated ? GrammarBuilder.Complement(ranges) : ranges);
        if (!Encodable(normalized)) throw Invalid($"the character class '{_pattern[open.._position]}' matches no character", open);
        return new CharactersRegexNode(normalized);
    }

    // One class member: a code point (set null) or a class escape's ranges.
    private (int CodePoint, IReadOnlyList<(int, int)>? Set) ReadClassItem()
    {
        if (Current != '\\') return (ReadLiteral(), null);
        int start = _position;
        _position++;
        if (AtEnd) throw Invalid("the pattern ends with a lone backslash", start);
        char c = Current;
        switch (c)
        {
            case 'b':
                _position++;
                return ('\b', null);
            case 'B':
                throw Unsupported("'\\B' inside a character class", start);
            default:
                var set = ClassEscape(c);
                if (set is not null)
                {
                    _position++;
                    return (0, set);
                }
                return (ReadCharacterEscape(start), null);
        }
    }

    // After '\' outside a class.
    private RegexNode ParseEscape()
    {
        int start = _position;
        _position++;
        if (AtEnd) throw Invalid("the pattern ends with a lone backslash", start);
        char c = Current;
        if (ClassEscape(c) is { } set)
        {
            _position++;
            return new CharactersRegexNode(set);
        }
        if (c is 'b' or 'B') throw Unsupported($"a word boundary '\\{c}'", start);
        if (c is 'A' or 'Z' or 'z' or 'G') throw Unsupported($"the anchor '\\{c}'", start);
        return Single(ReadCharacterEscape(start), start);
    }

    // \d \D \w \W \s \S (ASCII meanings; the negations over all code points); null for any other letter.
    private static IReadOnlyList<(int, int)>? ClassEscape(char c) => c switch
    {
        'd' => Digits,
        'D' => GrammarBuilder.Complement(Digits),
        'w' => WordCharacters,
        'W' => GrammarBuilder.Complement(WordCharacters),
        's' => Spaces,
        'S' => GrammarBuilder.Complement(Spaces),
        _ => null,
    };

    // The code point of a character escape whose letter is at _position ('\' at start); refuses the rest.
    private int ReadCharacterEscape(int start)
    {
        char c = Current;
        _position++;
        switch (c)
        {
            case 'n': return '\n';
            case 'r': return '\r';
            case 't': return '\t';
            case 'f': return '\f';
            case 'v': return '\v';
            case 'a': return '\a';
            case '0':
                if (!AtEnd && char.IsAsciiDigit(Current)) throw Unsupported("an octal escape", start);
                return 0;
            case 'x': return ReadHex(start, 2, 2, "\\x");
            case 'U': return ReadHex(start, 8, 8, "\\U");
            case 'u':
                if (!AtEnd && Current == '{')
                {
                    _position++;
                    int value = ReadHex(start, 1, 6, "\\u{");
                    if (AtEnd || Current != '}') throw Invalid("'\\u{' escape without its closing '}'", start);
                    _position++;
                    return value;
                }
                int unit = ReadHex(start, 4, 4, "\\u");
                // A \u high surrogate directly followed by a \u low surrogate is one code point, as in JavaScript.
                if (char.IsHighSurrogate((char)unit) && _position + 6 <= _pattern.Length && _pattern[_position] == '\\' && _pattern[_position + 1] == 'u')
                {
                    int low = 0;
                    for (int i = _position + 2; i < _position + 6 && low >= 0; i++)
                        low = char.IsAsciiHexDigit(_pattern[i]) ? low * 16 + HexValue(_pattern[i]) : -1;
                    if (low >= 0 && char.IsLowSurrogate((char)low))
                    {
                        _position += 6;
                        return char.ConvertToUtf32((char)unit, (char)low);
                    }
                }
                return unit;
            case 'p' or 'P':
                throw Unsupported($"a Unicode property class '\\{c}'", start);
            case 'k':
                throw Unsupported("a named backreference '\\k'", start);
            case >= '1' and <= '9':
                throw Unsupported($"a backreference '\\{c}'", start);
            default:
                if (char.IsAsciiLetterOrDigit(c)) throw Unsupported($"the escape '\\{c}'", start);
                _position--;
                return ReadLiteral(); // escaped punctuation or any other non-alphanumeric character is itself
        }
    }

    // minDigits..maxDigits hex digits at _position.
    private int ReadHex(int start, int minDigits, int maxDigits, string escape)
    {
        long value = 0;
        int count = 0;
        while (count < maxDigits && !AtEnd && char.IsAsciiHexDigit(Current))
        {
            value = value * 16 + HexValue(Current);
            _position++;
            count++;
        }
        if (count < minDigits) throw Invalid($"the escape '{escape}' needs {(minDigits == maxDigits ? $"{minDigits}" : $"{minDigits} to {maxDigits}")} hex digits", start);
        if (value > MaxCodePoint) throw Invalid($"the escape '{_pattern[start.._position]}' is beyond U+10FFFF", start);
        return (int)value;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    // The code point at _position (a surrogate pair counts as one).
    private int ReadLiteral()
    {
        char c = Current;
        _position++;
        if (char.IsHighSurrogate(c) && !AtEnd && char.IsLowSurrogate(Current))
            return char.ConvertToUtf32(c, _pattern[_position++]);
        return c;
    }

    // A single code point outside a class; a lone surrogate has no UTF-8 form.
    private static CharactersRegexNode Single(int codePoint, int position)
    {
        if (codePoint is >= 0xD800 and <= 0xDFFF)
            throw Invalid($"the lone surrogate U+{codePoint:X4} cannot appear in UTF-8 text", position);
        return new CharactersRegexNode([(codePoint, codePoint)]);
    }

    // Sorted, merged (overlapping or adjacent) ranges.
    private static List<(int Lo, int Hi)> Normalize(IEnumerable<(int Lo, int Hi)> ranges) => GrammarBuilder.MergeRanges(ranges);

    // Whether some code point in the ranges is not a surrogate.
    private static bool Encodable(List<(int Lo, int Hi)> ranges) =>
        ranges.Exists(r => r.Lo < 0xD800 || r.Hi > 0xDFFF);
}
