// Grammars for JSON numbers within bounds (minimum/maximum, either exclusive, either absent), written as plain decimals:
// an optional '-', a canonical integer part, an optional '.digits' fraction, no exponent (stricter than JSON, never looser).
// A negative number's magnitude is never 0 (no "-0"). The integer part is split against the bounds' integer parts; on an
// equal integer part the fraction's digits are compared with the bound's digits one by one (a small product automaton of
// the lower and the upper comparison). Invariant: the symbol matches exactly the plain decimals whose value is in range.
using System.Numerics;

namespace Estuary.Engine.Structured;

internal static class DecimalRangeGrammar
{
    /// <summary>A bound: its exact value and whether the value itself is excluded.</summary>
    public readonly record struct Bound(JsonDecimal Value, bool Exclusive);

    /// <summary>Plain decimals v with lower ≤ v ≤ upper (exclusive as given; null = unbounded); null when none exists.</summary>
    public static GrammarSymbol? Build(JsonGrammarParts json, Bound? lower, Bound? upper)
    {
        var b = json.Builder;
        var options = new List<GrammarSymbol>();
        // v ≥ 0, written without '-': magnitude in [max(lower, 0), upper].
        var zero = new Bound(new JsonDecimal(BigInteger.Zero, 0), false);
        var nonNegativeLow = lower is { } l && l.Value.Mantissa.Sign >= 0 ? l : zero;
        if (upper is not { } u || u.Value.Mantissa.Sign >= 0)
        {
            if (Magnitudes(json, nonNegativeLow, upper) is { } nonNegative) options.Add(nonNegative);
        }
        // v < 0, written '-' m: m in [max(-upper, 0 exclusive), -lower].
        if (lower is not { } low || low.Value.Mantissa.Sign < 0)
        {
            var mLow = upper is { } up && up.Value.Mantissa.Sign < 0 ? new Bound(Negate(up.Value), up.Exclusive) : zero with { Exclusive = true };
            Bound? mHigh = lower is { } lo ? new Bound(Negate(lo.Value), lo.Exclusive) : null;
            if (Magnitudes(json, mLow, mHigh) is { } negative) options.Add(b.Sequence(b.Literal("-"), negative));
        }
        return options.Count == 0 ? null : b.Choice([.. options]);
    }

    // Unsigned plain decimals m with low ≤ m ≤ high (low ≥ 0; high null = unbounded); null when the range is empty.
    private static GrammarSymbol? Magnitudes(JsonGrammarParts json, Bound low, Bound? high)
    {
        if (high is { } h && (low.Value.CompareTo(h.Value) > 0 || (low.Value.CompareTo(h.Value) == 0 && (low.Exclusive || h.Exclusive)))) return null;
        var b = json.Builder;
        var (lowInteger, lowDigits) = Split(low.Value);
        var anyFraction = b.Optional(b.Sequence(b.Literal("."), json.Digits));
        var options = new List<GrammarSymbol>();
        void AddInteger(BigInteger integer, GrammarSymbol? fraction)
        {
            if (fraction is { } f) options.Add(b.Sequence(b.Literal(integer.ToString(System.Globalization.CultureInfo.InvariantCulture)), f));
        }
        if (high is not { } hi)
        {
            AddInteger(lowInteger, Fraction(b, lowDigits, low.Exclusive, null, false));
            options.Add(b.Sequence(IntegerRangeGrammar.Build(json, lowInteger + 1, null), anyFraction));
        }
        else
        {
            var (highInteger, highDigits) = Split(hi.Value);
            if (lowInteger == highInteger) AddInteger(lowInteger, Fraction(b, lowDigits, low.Exclusive, highDigits, hi.Exclusive));
            else
            {
                AddInteger(lowInteger, Fraction(b, lowDigits, low.Exclusive, null, false));
                if (highInteger - lowInteger >= 2) options.Add(b.Sequence(IntegerRangeGrammar.Build(json, lowInteger + 1, highInteger - 1), anyFraction));
                AddInteger(highInteger, Fraction(b, null, false, highDigits, hi.Exclusive));
            }
        }
        return options.Count == 0 ? null : b.Choice([.. options]);
    }

    // The optional ".digits" part whose value 0.D satisfies lowDigits ≤ D ≤ highDigits (each a fraction's digits with trailing
    // zeros removed; null = no bound on that side); null when no fraction does. States pair the progress of both comparisons:
    // Equal(i) = the digits so far equal the bound's first i digits; Free = already strictly inside on that side. States that
    // cannot reach an accepting one are left out, so no path leads into endless zeros that never satisfy the bound.
    private static GrammarSymbol? Fraction(GrammarBuilder b, string? lowDigits, bool lowExclusive, string? highDigits, bool highExclusive)
    {
        const int Free = -1;
        var start = (lowDigits is null ? Free : 0, highDigits is null ? Free : 0);

        bool Accepts((int Low, int High) s) =>
            (s.Low == Free || (s.Low == lowDigits!.Length && !lowExclusive))
            && (s.High == Free || s.High < highDigits!.Length || !highExclusive);

        // The state after digit d; null when the digit takes the value outside.
        (int, int)? Next((int Low, int High) s, int d)
        {
            int low = s.Low, high = s.High;
            if (low != Free)
            {
                int bound = low < lowDigits!.Length ? lowDigits[low] - '0' : 0;
                if (d > bound) low = Free;
                else if (d < bound) return null;
                else if (low < lowDigits.Length) low++;
            }
            if (high != Free)
            {
                int bound = high < highDigits!.Length ? highDigits[high] - '0' : 0;
                if (d < bound) high = Free;
                else if (d > bound) return null;
                else if (high < highDigits.Length) high++;
            }
            return (low, high);
        }

        // Every state reachable from the start, then those from which an accepting state is reachable.
        var reachable = new List<(int, int)> { start };
        for (int i = 0; i < reachable.Count; i++)
            for (int d = 0; d <= 9; d++)
                if (Next(reachable[i], d) is { } t && !reachable.Contains(t)) reachable.Add(t);
        var live = new HashSet<(int, int)>(reachable.Where(Accepts));
        for (bool grew = true; grew;)
        {
            grew = false;
            foreach (var s in reachable)
                if (!live.Contains(s) && Enumerable.Range(0, 10).Any(d => Next(s, d) is { } t && live.Contains(t))) grew = live.Add(s) || grew;
        }
        if (!live.Contains(start)) return null;

        var rules = live.ToDictionary(s => s, _ => b.DeclareRule("fraction digits"));
        // Digits from `from` into live states, grouped by target; with ε first when the state accepts.
        void AddTransitions(int rule, (int, int) from)
        {
            var byTarget = new List<(ByteSet Digits, (int, int) Target)>();
            for (int d = 0; d <= 9; d++)
            {
                if (Next(from, d) is not { } target || !live.Contains(target)) continue;
                int k = byTarget.FindIndex(a => a.Target == target);
                var set = ByteSet.Of((byte)('0' + d));
                if (k < 0) byTarget.Add((set, target));
                else byTarget[k] = (byTarget[k].Digits.Union(set), target);
            }
            foreach (var (digits, target) in byTarget) b.AddAlternative(rule, b.Bytes(digits), GrammarBuilder.Ref(rules[target]));
        }
        foreach (var (s, rule) in rules)
        {
            if (Accepts(s)) b.AddAlternative(rule);
            AddTransitions(rule, s);
        }
        var options = new List<GrammarSymbol>();
        if (Accepts(start)) options.Add(b.Empty());
        if (Enumerable.Range(0, 10).Any(d => Next(start, d) is { } t && live.Contains(t)))
        {
            // ".D" needs at least one digit: the first one comes from the start state's transitions.
            int firstDigit = b.DeclareRule("fraction");
            AddTransitions(firstDigit, start);
            options.Add(b.Sequence(b.Literal("."), GrammarBuilder.Ref(firstDigit)));
        }
        return b.Choice([.. options]);
    }

    // Integer part and fraction digits (trailing zeros removed) of a non-negative value.
    private static (BigInteger Integer, string Digits) Split(JsonDecimal value)
    {
        var integer = value.Floor();
        if (value.Exponent >= 0) return (integer, "");
        var scale = BigInteger.Pow(10, -value.Exponent);
        var fraction = value.Mantissa - integer * scale;
        var digits = fraction.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(-value.Exponent, '0').TrimEnd('0');
        return (integer, digits);
    }

    private static JsonDecimal Negate(JsonDecimal v) => new(-v.Mantissa, v.Exponent);
}
