// Grammars for the string formats a JSON schema may ask for and that structured output enforces: date (RFC 3339
// full-date, leap years exact), time (RFC 3339 full-time with offset), date-time and uuid. Invariant: every text matched
// is valid for the format (upper-case 'T'/'Z', no leap second 60: a subset of RFC 3339 that every validator accepts).
namespace Estuary.Engine.Structured;

/// <summary>String formats as grammars for a string's content (without the quotes).</summary>
internal static class StringFormatGrammar
{
    /// <summary>The formats enforced; others are annotations and are not checked (as JSON Schema does by default).</summary>
    public static bool IsEnforced(string format) => format is "date" or "time" or "date-time" or "uuid";

    /// <summary>The content grammar of <paramref name="format"/> (one of the enforced formats).</summary>
    public static GrammarSymbol Build(JsonGrammarParts json, string format) => format switch
    {
        "date" => Date(json),
        "time" => Time(json),
        "date-time" => json.Builder.Sequence(Date(json), json.Builder.Literal("T"), Time(json)),
        "uuid" => Uuid(json),
        _ => throw new ArgumentException($"format '{format}' is not enforced", nameof(format)),
    };

    // YYYY-MM-DD with the right number of days per month, and 29 February only in leap years.
    private static GrammarSymbol Date(JsonGrammarParts json)
    {
        var b = json.Builder;
        var d = json.Digit;
        GrammarSymbol Digits(char lo, char hi) => b.Bytes(ByteSet.Range(lo, hi));
        GrammarSymbol Lit(string s) => b.Literal(s);
        var year = b.Repeat(d, 4, 4);
        var day28 = b.Choice(b.Sequence(Lit("0"), Digits('1', '9')), b.Sequence(Lit("1"), d), b.Sequence(Lit("2"), Digits('0', '8')));
        var day30 = b.Choice(b.Sequence(Lit("0"), Digits('1', '9')), b.Sequence(Digits('1', '2'), d), Lit("30"));
        var day31 = b.Choice(day30, Lit("31"));
        var monthDay = b.Choice(
            b.Sequence(b.Choice(Lit("01"), Lit("03"), Lit("05"), Lit("07"), Lit("08"), Lit("10"), Lit("12")), Lit("-"), day31),
            b.Sequence(b.Choice(Lit("04"), Lit("06"), Lit("09"), Lit("11")), Lit("-"), day30),
            b.Sequence(Lit("02-"), day28));
        // Two digits that are a multiple of 4 other than 00: 0[48] | [2468][048] | [13579][26].
        var multipleOf4 = b.Choice(b.Sequence(Lit("0"), b.Bytes(ByteSet.Of((byte)'4').Union(ByteSet.Of((byte)'8')))),
            b.Sequence(b.Bytes(ByteSet.Of((byte)'2').Union(ByteSet.Of((byte)'4')).Union(ByteSet.Of((byte)'6')).Union(ByteSet.Of((byte)'8'))),
                b.Bytes(ByteSet.Of((byte)'0').Union(ByteSet.Of((byte)'4')).Union(ByteSet.Of((byte)'8')))),
            b.Sequence(b.Bytes(ByteSet.Of((byte)'1').Union(ByteSet.Of((byte)'3')).Union(ByteSet.Of((byte)'5')).Union(ByteSet.Of((byte)'7')).Union(ByteSet.Of((byte)'9'))),
                b.Bytes(ByteSet.Of((byte)'2').Union(ByteSet.Of((byte)'6')))));
        // Leap: divisible by 4 and not by 100 (YY then a non-zero multiple of 4), or by 400 (a multiple of 4, or 00, then 00).
        var leapYear = b.Choice(b.Sequence(d, d, multipleOf4), b.Sequence(b.Choice(multipleOf4, Lit("00")), Lit("00")));
        return b.Choice(b.Sequence(year, Lit("-"), monthDay), b.Sequence(leapYear, Lit("-02-29")));
    }

    // HH:MM:SS(.fraction)? then Z or ±HH:MM.
    private static GrammarSymbol Time(JsonGrammarParts json)
    {
        var b = json.Builder;
        var d = json.Digit;
        var hour = b.Choice(b.Sequence(b.Bytes(ByteSet.Range('0', '1')), d), b.Sequence(b.Literal("2"), b.Bytes(ByteSet.Range('0', '3'))));
        var sixty = b.Sequence(b.Bytes(ByteSet.Range('0', '5')), d);
        var colon = b.Literal(":");
        var fraction = b.Optional(b.Sequence(b.Literal("."), json.Digits));
        var offset = b.Choice(b.Literal("Z"), b.Sequence(b.Bytes(ByteSet.Of((byte)'+').Union(ByteSet.Of((byte)'-'))), hour, colon, sixty));
        return b.Sequence(hour, colon, sixty, colon, sixty, fraction, offset);
    }

    // 8-4-4-4-12 hexadecimal digits, either case.
    private static GrammarSymbol Uuid(JsonGrammarParts json)
    {
        var b = json.Builder;
        var hex = b.Bytes(ByteSet.Range('0', '9').Union(ByteSet.Range('a', 'f')).Union(ByteSet.Range('A', 'F')));
        var dash = b.Literal("-");
        return b.Sequence(b.Repeat(hex, 8, 8), dash, b.Repeat(hex, 4, 4), dash, b.Repeat(hex, 4, 4), dash, b.Repeat(hex, 4, 4), dash, b.Repeat(hex, 12, 12));
    }
}
