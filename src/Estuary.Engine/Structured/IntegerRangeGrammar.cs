// Grammars for the JSON integers in a range [lo, hi] (either side may be open), written the canonical way: no leading
// zeros, no "-0", no fraction or exponent. Invariant: the symbol matches exactly the canonical texts of the range's
// integers, each in one way (split by digit count, then digit by digit against the bounds).
using System.Globalization;
using System.Numerics;

namespace Estuary.Engine.Structured;

/// <summary>Integer ranges as digit grammars.</summary>
internal static class IntegerRangeGrammar
{
    /// <summary>The integers in [<paramref name="lo"/>, <paramref name="hi"/>] (null = unbounded); the range must not be empty.</summary>
    public static GrammarSymbol Build(JsonGrammarParts json, BigInteger? lo, BigInteger? hi)
    {
        if (lo > hi) throw new ArgumentException($"the integer range [{lo}, {hi}] is empty", nameof(lo));
        var builder = json.Builder;
        var parts = new List<GrammarSymbol>();
        if (hi is null || hi >= 0)
            parts.Add(Magnitudes(json, BigInteger.Max(lo ?? BigInteger.Zero, BigInteger.Zero), hi));
        if (lo is null || lo < 0)
        {
            var from = hi is { } h && h < 0 ? -h : BigInteger.One;
            parts.Add(builder.Sequence(builder.Literal("-"), Magnitudes(json, from, lo is { } l ? -l : null)));
        }
        return builder.Choice([.. parts]);
    }

    // Canonical decimals of the numbers from..to (from ≥ 0; to null = unbounded), grouped by digit count.
    private static GrammarSymbol Magnitudes(JsonGrammarParts json, BigInteger from, BigInteger? to)
    {
        var builder = json.Builder;
        string low = from.ToString(CultureInfo.InvariantCulture);
        string? high = to?.ToString(CultureInfo.InvariantCulture);
        var nonZero = builder.Bytes(ByteSet.Range('1', '9'));
        if (high is not null && high.Length == low.Length) return SameLength(json, low, high);
        var parts = new List<GrammarSymbol> { SameLength(json, low, new string('9', low.Length)) };
        int longest = high is null ? int.MaxValue : high.Length - 1;
        // Every number with low.Length+1 .. longest digits.
        if (longest > low.Length)
            parts.Add(builder.Sequence(nonZero, builder.Repeat(json.Digit, low.Length, high is null ? null : longest - 1)));
        if (high is not null) parts.Add(SameLength(json, "1" + new string('0', high.Length - 1), high));
        return builder.Choice([.. parts]);
    }

    // Digit strings of one length between low and high inclusive (same length, low ≤ high).
    private static GrammarSymbol SameLength(JsonGrammarParts json, string low, string high)
    {
        var builder = json.Builder;
        int common = 0;
        while (common < low.Length && low[common] == high[common]) common++;
        if (common == low.Length) return builder.Literal(low);
        var parts = new List<GrammarSymbol>();
        if (common > 0) parts.Add(builder.Literal(low[..common]));
        char a = low[common], b = high[common];
        string lowRest = low[(common + 1)..], highRest = high[(common + 1)..];
        int rest = lowRest.Length;
        bool lowOpen = lowRest.All(c => c == '0'), highOpen = highRest.All(c => c == '9');
        // The first differing digit: a (then ≥ lowRest), strictly between (then anything), b (then ≤ highRest).
        char middleFrom = lowOpen ? a : (char)(a + 1), middleTo = highOpen ? b : (char)(b - 1);
        var options = new List<GrammarSymbol>();
        if (!lowOpen) options.Add(builder.Sequence(builder.Literal(a.ToString()), SameLength(json, lowRest, new string('9', rest))));
        if (middleFrom <= middleTo) options.Add(builder.Sequence(builder.Bytes(ByteSet.Range(middleFrom, middleTo)), builder.Repeat(json.Digit, rest, rest)));
        if (!highOpen) options.Add(builder.Sequence(builder.Literal(b.ToString()), SameLength(json, new string('0', rest), highRest)));
        parts.Add(builder.Choice([.. options]));
        return builder.Sequence([.. parts]);
    }
}
