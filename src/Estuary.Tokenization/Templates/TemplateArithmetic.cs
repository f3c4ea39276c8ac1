// Python's binary operators on template values: comparisons and membership, ~, + (strings, lists, tuples), * (repetition),
// % (string formatting or modulo), and int/float arithmetic with Python's floor division, modulo signs and int results.
// Invariant: integers stay within 64 bits (a result past them fails rather than wrapping); what Python refuses fails naming
// the operator and the line.
namespace Estuary.Tokenization.Templates;

internal static class TemplateArithmetic
{
    /// <summary>x op y for every binary operator but the short-circuiting and/or.</summary>
    public static object? Apply(string op, object? x, object? y, int line)
    {
        if (op is "==" or "!=" or "<" or ">" or "<=" or ">=" or "in" or "not in" or "~") return op == "~" ? TemplateValues.ToText(x) + TemplateValues.ToText(y) : Compare(op, x, y, line);
        if (op == "+" && x is string xs && y is string ys) return xs + ys;
        if (op == "+" && x is List<object?> xl && y is List<object?> yl)
        {
            if (x is PyRange || y is PyRange) throw new TemplateException($"line {line}: unsupported operand types for +: {TemplateValues.TypeName(x)} and {TemplateValues.TypeName(y)}");
            if ((xl is PyTuple) != (yl is PyTuple)) throw new TemplateException($"line {line}: can only concatenate {TemplateValues.TypeName(x)} (not \"{TemplateValues.TypeName(y)}\") to {TemplateValues.TypeName(x)}");
            return xl is PyTuple ? new PyTuple([.. xl, .. yl]) : xl.Concat(yl).ToList();
        }
        if (op == "%" && x is string format) return TemplatePercentFormat.Format(format, y, line);
        if (op == "*" && (x is List<object?> && y is long or bool || x is long or bool && y is List<object?>)) // [1] * 3
        {
            var seq = x as List<object?> ?? (List<object?>)y!;
            long times = (long)TemplateValues.ToDouble(x is List<object?> ? y : x);
            if (times * seq.Count > 1 << 20) throw new TemplateException($"line {line}: a list repeated {times} times is too long for a chat template");
            var repeated = new List<object?>();
            for (long k = 0; k < times; k++) repeated.AddRange(seq);
            return seq is PyTuple ? new PyTuple([.. repeated]) : repeated;
        }
        if (op == "*" && (x is string && y is long or bool || x is long or bool && y is string)) // "ab" * 3
        {
            string text = x as string ?? (string)y!;
            long times = (long)TemplateValues.ToDouble(x is string ? y : x);
            if (times > 1 << 20) throw new TemplateException($"line {line}: a string repeated {times} times is too long for a chat template");
            return times <= 0 ? "" : string.Concat(Enumerable.Repeat(text, (int)times));
        }
        if (!TemplateValues.IsNumber(x) || !TemplateValues.IsNumber(y))
            throw new TemplateException($"line {line}: unsupported operand types for {op}: {TemplateValues.TypeName(x)} and {TemplateValues.TypeName(y)}");
        bool integers = x is long or bool && y is long or bool;
        if (integers)
        {
            long p = x is bool bx ? (bx ? 1 : 0) : (long)x!, q = y is bool by ? (by ? 1 : 0) : (long)y!;
            try
            {
                switch (op)
                {
                    case "+": return checked(p + q);
                    case "-": return checked(p - q);
                    case "*": return checked(p * q);
                    case "/": return q == 0 ? throw DivisionByZero(line) : (double)p / q;
                    case "//": return q == 0 ? throw DivisionByZero(line) : FloorDiv(p, q);
                    case "%": return q == 0 ? throw DivisionByZero(line) : p - q * FloorDiv(p, q);
                    case "**":
                        if (q >= 0) return p is >= -1 and <= 1 ? (p != -1 ? (q == 0 ? 1L : p) : q % 2 == 0 ? 1L : -1L) : q > 64 ? throw new OverflowException() : (long)System.Numerics.BigInteger.Pow(p, (int)q);
                        return p == 0 ? throw new TemplateException($"line {line}: 0 cannot be raised to a negative power") : Math.Pow(p, q);
                }
            }
            catch (OverflowException)
            {
                throw new TemplateException($"line {line}: the integer result of {op} is too large for a chat template (over 64 bits)");
            }
        }
        double u = TemplateValues.ToDouble(x), v = TemplateValues.ToDouble(y);
        return op switch
        {
            "+" => u + v,
            "-" => u - v,
            "*" => u * v,
            "/" => v == 0 ? throw DivisionByZero(line) : u / v,
            "//" => v == 0 ? throw DivisionByZero(line) : FloatDivMod(u, v).Div,
            "%" => v == 0 ? throw DivisionByZero(line) : FloatDivMod(u, v).Mod,
            "**" => u == 0 && v < 0 ? throw new TemplateException($"line {line}: 0.0 cannot be raised to a negative power")
                : u < 0 && v != Math.Floor(v) ? throw new TemplateException($"line {line}: a negative number to a fractional power is complex")
                : Math.Pow(u, v) is var power && double.IsInfinity(power) && double.IsFinite(u) && double.IsFinite(v)
                    ? throw new TemplateException($"line {line}: the result of ** is out of range (OverflowError)") : power,
            _ => throw new TemplateException($"line {line}: unknown operator {op}"),
        };
    }

    public static bool Compare(string op, object? x, object? y, int line) => op switch
    {
        "==" => TemplateValues.AreEqual(x, y),
        "!=" => !TemplateValues.AreEqual(x, y),
        "in" => TemplateValues.Contains(y, x, line),
        "not in" => !TemplateValues.Contains(y, x, line),
        _ => TemplateValues.Compare(op, x, y, line),
    };

    private static long FloorDiv(long p, long q)
    {
        if (p == long.MinValue && q == -1) throw new OverflowException();
        long d = p / q;
        return (p % q != 0 && (p < 0) != (q < 0)) ? d - 1 : d;
    }

    // Python's float divmod: the remainder takes the divisor's sign, the quotient is floored (and rounded as CPython does).
    private static (double Div, double Mod) FloatDivMod(double vx, double wx)
    {
        double mod = vx % wx, div = (vx - mod) / wx;
        if (mod != 0)
        {
            if ((wx < 0) != (mod < 0))
            {
                mod += wx;
                div -= 1.0;
            }
        }
        else mod = Math.CopySign(0.0, wx);
        double floordiv;
        if (div != 0)
        {
            floordiv = Math.Floor(div);
            if (div - floordiv > 0.5) floordiv += 1.0;
        }
        else floordiv = Math.CopySign(0.0, vx / wx);
        return (floordiv, mod);
    }

    private static TemplateException DivisionByZero(int line) => new($"line {line}: division by zero");
}
