// The generic pieces of JSON text as grammar symbols over one builder: bounded whitespace, strings, numbers, integers,
// literal values and "any value". Invariant: every piece matches only RFC 8259 JSON (valid UTF-8; a \u escape of a
// surrogate only as a high-low pair) and the shared pieces are built once per builder.
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Estuary.Engine.Structured;

/// <summary>The sign constraints a JSON number grammar can express exactly without looking at digits.</summary>
internal enum JsonNumberSign
{
    /// <summary>Any number.</summary>
    Any,
    /// <summary>Numbers ≥ 0 (written without a minus sign).</summary>
    NonNegative,
    /// <summary>Numbers &gt; 0 (no minus sign, some non-zero digit).</summary>
    Positive,
    /// <summary>Numbers ≤ 0 (a minus sign, or a zero).</summary>
    NonPositive,
    /// <summary>Numbers &lt; 0 (a minus sign and some non-zero digit).</summary>
    Negative,
    /// <summary>Only zero (0, 0.00, 0e5 …, without a minus sign).</summary>
    Zero,
}

/// <summary>JSON building blocks over one <see cref="GrammarBuilder"/>.</summary>
internal sealed class JsonGrammarParts(GrammarBuilder builder)
{
    /// <summary>Most indentation bytes after a line break between two JSON tokens (2-space indentation ten levels deep).</summary>
    public const int MaxIndent = 20;

    private GrammarSymbol? _whitespace, _character, _string, _digit, _digits, _unsigned, _value, _anyObject, _anyArray;
    private readonly Dictionary<JsonNumberSign, GrammarSymbol> _numbers = [];

    /// <summary>The builder the pieces are added to.</summary>
    public GrammarBuilder Builder => builder;

    /// <summary>
    /// The one gap symbol used between all tokens: nothing, one space, or one line break (\n or \r\n) followed by up to
    /// <see cref="MaxIndent"/> spaces or tabs. Compact and pretty-printed JSON both match, and a model cannot spend its tokens
    /// on runs of blank lines (at most one line break per gap, as llama.cpp's JSON grammars allow).
    /// </summary>
    public GrammarSymbol Whitespace => _whitespace ??= builder.Choice(
        builder.Empty(),
        builder.Literal(" "),
        builder.Sequence(builder.Optional(builder.Literal("\r")), builder.Literal("\n"),
            builder.Repeat(builder.Bytes(ByteSet.Of((byte)' ').Union(ByteSet.Of((byte)'\t'))), 0, MaxIndent)));

    /// <summary>
    /// One character of a string's content as JSON writes it: a code point other than '"', '\' and U+0000–U+001F, or one
    /// escape (\" \\ \/ \b \f \n \r \t, \uXXXX of a non-surrogate, or a \uXXXX\uXXXX surrogate pair); each counts as one.
    /// </summary>
    public GrammarSymbol StringCharacter => _character ??= BuildStringCharacter();

    /// <summary>Any JSON string.</summary>
    public GrammarSymbol String => _string ??= builder.Sequence(Quote, builder.ZeroOrMore(StringCharacter), Quote);

    /// <summary>A JSON string of <paramref name="minLength"/> to <paramref name="maxLength"/> characters (null = unbounded).</summary>
    public GrammarSymbol StringOfLength(int minLength, int? maxLength) =>
        minLength == 0 && maxLength is null ? String : builder.Sequence(Quote, builder.Repeat(StringCharacter, minLength, maxLength), Quote);

    /// <summary>The '"' that opens and closes strings.</summary>
    public GrammarSymbol Quote => builder.Literal("\"");

    /// <summary>One digit 0–9.</summary>
    public GrammarSymbol Digit => _digit ??= builder.Bytes(ByteSet.Range('0', '9'));

    /// <summary>One or more digits.</summary>
    public GrammarSymbol Digits => _digits ??= builder.OneOrMore(Digit);

    /// <summary>A non-negative integer without leading zeros: 0 | [1-9][0-9]*.</summary>
    public GrammarSymbol UnsignedInteger => _unsigned ??= builder.Choice(builder.Literal("0"), builder.Sequence(builder.Bytes(ByteSet.Range('1', '9')), builder.ZeroOrMore(Digit)));

    /// <summary>Any JSON integer without fraction or exponent: -?(0|[1-9][0-9]*).</summary>
    public GrammarSymbol Integer => builder.Sequence(builder.Optional(builder.Literal("-")), UnsignedInteger);

    /// <summary>A JSON number (optional fraction and exponent) whose value has the sign <paramref name="sign"/>.</summary>
    public GrammarSymbol Number(JsonNumberSign sign)
    {
        if (_numbers.TryGetValue(sign, out var known)) return known;
        var minus = builder.Literal("-");
        var fraction = builder.Optional(builder.Sequence(builder.Literal("."), Digits));
        var exponent = builder.Optional(builder.Sequence(builder.Bytes(ByteSet.Of((byte)'e').Union(ByteSet.Of((byte)'E'))),
            builder.Optional(builder.Bytes(ByteSet.Of((byte)'+').Union(ByteSet.Of((byte)'-')))), Digits));
        var unsigned = builder.Sequence(UnsignedInteger, fraction, exponent);
        var nonZeroDigit = builder.Bytes(ByteSet.Range('1', '9'));
        // Some digit is not 0: in the integer part, or else in the fraction.
        var positive = builder.Choice(
            builder.Sequence(nonZeroDigit, builder.ZeroOrMore(Digit), fraction, exponent),
            builder.Sequence(builder.Literal("0."), builder.ZeroOrMore(builder.Literal("0")), nonZeroDigit, builder.ZeroOrMore(Digit), exponent));
        var zero = builder.Sequence(builder.Literal("0"), builder.Optional(builder.Sequence(builder.Literal("."), builder.OneOrMore(builder.Literal("0")))), exponent);
        var symbol = sign switch
        {
            JsonNumberSign.Any => builder.Sequence(builder.Optional(minus), unsigned),
            JsonNumberSign.NonNegative => unsigned,
            JsonNumberSign.Positive => positive,
            JsonNumberSign.NonPositive => builder.Choice(builder.Sequence(minus, unsigned), zero),
            JsonNumberSign.Negative => builder.Sequence(minus, positive),
            JsonNumberSign.Zero => zero,
            _ => throw new ArgumentOutOfRangeException(nameof(sign)),
        };
        _numbers[sign] = symbol;
        return symbol;
    }

    /// <summary>true | false.</summary>
    public GrammarSymbol Boolean => builder.Choice(builder.Literal("true"), builder.Literal("false"));

    /// <summary>null.</summary>
    public GrammarSymbol Null => builder.Literal("null");

    /// <summary>Any JSON value (a recursive rule).</summary>
    public GrammarSymbol AnyValue
    {
        get
        {
            if (_value is { } known) return known;
            int rule = builder.DeclareRule("json value");
            _value = GrammarBuilder.Ref(rule);
            _anyObject = ObjectOf(_value.Value);
            _anyArray = ArrayOf(_value.Value, 0, null);
            foreach (var option in (ReadOnlySpan<GrammarSymbol>)[_anyObject.Value, _anyArray.Value, String, Number(JsonNumberSign.Any), Boolean, Null])
                builder.AddAlternative(rule, option);
            return _value.Value;
        }
    }

    /// <summary>Any JSON object.</summary>
    public GrammarSymbol AnyObject
    {
        get
        {
            _ = AnyValue;
            return _anyObject!.Value;
        }
    }

    /// <summary>Any JSON array.</summary>
    public GrammarSymbol AnyArray
    {
        get
        {
            _ = AnyValue;
            return _anyArray!.Value;
        }
    }

    /// <summary>An object with any keys (in any number) whose values are <paramref name="value"/>.</summary>
    public GrammarSymbol ObjectOf(GrammarSymbol value)
    {
        var ws = Whitespace;
        var member = builder.Sequence(String, ws, builder.Literal(":"), ws, value);
        var more = builder.ZeroOrMore(builder.Sequence(builder.Literal(","), ws, member, ws));
        return builder.Sequence(builder.Literal("{"), ws, builder.Choice(builder.Literal("}"), builder.Sequence(member, ws, more, builder.Literal("}"))));
    }

    /// <summary>An array of <paramref name="minItems"/> to <paramref name="maxItems"/> (null = unbounded) <paramref name="item"/>s.</summary>
    public GrammarSymbol ArrayOf(GrammarSymbol item, int minItems, int? maxItems)
    {
        var ws = Whitespace;
        var open = builder.Sequence(builder.Literal("["), ws);
        var close = builder.Literal("]");
        if (maxItems == 0) return builder.Sequence(open, close);
        var more = builder.Repeat(builder.Sequence(builder.Literal(","), ws, item, ws), Math.Max(0, minItems - 1), maxItems - 1);
        var items = builder.Sequence(item, ws, more, close);
        return builder.Sequence(open, minItems == 0 ? builder.Choice(close, items) : items);
    }

    /// <summary>
    /// Exactly the value <paramref name="value"/>: scalars as their compact JSON text (numbers as written in the schema,
    /// strings with only the escapes JSON requires), arrays and objects with whitespace allowed between their tokens.
    /// </summary>
    public GrammarSymbol Value(JsonElement value)
    {
        var ws = Whitespace;
        switch (value.ValueKind)
        {
            case JsonValueKind.Array:
            {
                var parts = new List<GrammarSymbol> { builder.Literal("["), ws };
                bool first = true;
                foreach (var item in value.EnumerateArray())
                {
                    if (!first) parts.AddRange([builder.Literal(","), ws]);
                    parts.AddRange([Value(item), ws]);
                    first = false;
                }
                parts.Add(builder.Literal("]"));
                return builder.Sequence([.. parts]);
            }
            case JsonValueKind.Object:
            {
                var parts = new List<GrammarSymbol> { builder.Literal("{"), ws };
                bool first = true;
                foreach (var property in value.EnumerateObject())
                {
                    if (!first) parts.AddRange([builder.Literal(","), ws]);
                    parts.AddRange([builder.Literal(StringLiteral(property.Name)), ws, builder.Literal(":"), ws, Value(property.Value), ws]);
                    first = false;
                }
                parts.Add(builder.Literal("}"));
                return builder.Sequence([.. parts]);
            }
            case JsonValueKind.String:
                return builder.Literal(StringLiteral(value.GetString()!));
            default:
                return builder.Literal(value.GetRawText());
        }
    }

    /// <summary>
    /// <paramref name="text"/> as a JSON string literal: '"', '\' and control characters escaped (\n style where JSON has
    /// one, else \u00XX), everything else literal (non-ASCII included). Throws for a lone surrogate.
    /// </summary>
    public static string StringLiteral(string text)
    {
        var result = new StringBuilder(text.Length + 2).Append('"');
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '"': result.Append("\\\""); break;
                case '\\': result.Append("\\\\"); break;
                case '\b': result.Append("\\b"); break;
                case '\f': result.Append("\\f"); break;
                case '\n': result.Append("\\n"); break;
                case '\r': result.Append("\\r"); break;
                case '\t': result.Append("\\t"); break;
                default:
                    if (c < 0x20) result.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) result.Append(c).Append(text[++i]);
                    else if (char.IsSurrogate(c)) throw new GrammarException($"json_schema: a string in the schema contains an unpaired surrogate (U+{(int)c:X4})");
                    else result.Append(c);
                    break;
            }
        }
        return result.Append('"').ToString();
    }

    private GrammarSymbol BuildStringCharacter()
    {
        // Unescaped: U+0020..U+10FFFF except '"' (0x22) and '\' (0x5C).
        var plain = builder.CodePoints([(0x20, 0x21), (0x23, 0x5B), (0x5D, 0x10FFFF)]);
        var hex = builder.Bytes(ByteSet.Range('0', '9').Union(ByteSet.Range('a', 'f')).Union(ByteSet.Range('A', 'F')));
        var d = builder.Bytes(ByteSet.Of((byte)'d').Union(ByteSet.Of((byte)'D')));
        // Four hex digits of a code point outside D800–DFFF, of a high surrogate (D800–DBFF), of a low one (DC00–DFFF).
        var notD = builder.Bytes(ByteSet.Range('0', '9').Union(ByteSet.Range('a', 'c')).Union(ByteSet.Range('A', 'C')).Union(ByteSet.Range('e', 'f')).Union(ByteSet.Range('E', 'F')));
        var nonSurrogate = builder.Choice(
            builder.Sequence(notD, hex, hex, hex),
            builder.Sequence(d, builder.Bytes(ByteSet.Range('0', '7')), hex, hex));
        var high = builder.Sequence(d, builder.Bytes(ByteSet.Range('8', '9').Union(ByteSet.Range('a', 'b')).Union(ByteSet.Range('A', 'B'))), hex, hex);
        var low = builder.Sequence(d, builder.Bytes(ByteSet.Range('c', 'f').Union(ByteSet.Range('C', 'F'))), hex, hex);
        var unicode = builder.Sequence(builder.Literal("u"), builder.Choice(nonSurrogate, builder.Sequence(high, builder.Literal("\\u"), low)));
        var shortEscape = builder.Bytes(ByteSet.Of((byte)'"').Union(ByteSet.Of((byte)'\\')).Union(ByteSet.Of((byte)'/'))
            .Union(ByteSet.Of((byte)'b')).Union(ByteSet.Of((byte)'f')).Union(ByteSet.Of((byte)'n')).Union(ByteSet.Of((byte)'r')).Union(ByteSet.Of((byte)'t')));
        var escape = builder.Sequence(builder.Literal("\\"), builder.Choice(shortEscape, unicode));
        return builder.Choice(plain, escape);
    }
}
