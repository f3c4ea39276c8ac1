// The values a chat template computes with, behaving as Python's and Jinja's do: None, Undefined, str, int, float, bool,
// list, dict, namespace, callables and bound string/dict methods; truthiness, equality, ordering and str() conversion.
// Invariant: lists are List<object?> (tuples too: a PyTuple prints, orders, hashes and compares as Python's tuple, never
// equal to a list; a slice of one or a sum of two is a tuple), mappings Dictionary<string, object?> (a Namespace is
// one, but is always true, never equal to a dict and prints as <Namespace {…}>); integers are long, floats double.
using System.Globalization;

namespace Estuary.Tokenization.Templates;

/// <summary>Jinja's undefined value: prints as nothing, is false, and fails when used as anything else.</summary>
internal sealed class Undefined
{
    public static readonly Undefined Instance = new();
    private Undefined() { }
}

/// <summary>The mutable object of <c>namespace(...)</c>, the one thing <c>set ns.attr = …</c> may change.</summary>
internal sealed class Namespace : Dictionary<string, object?>;

/// <summary>Python's range object (what range() returns): iterates, indexes and measures as a list of its numbers, but prints as
/// <c>range(0, 3)</c>, equals only a range with the same numbers, and is neither ordered, added nor written as JSON.</summary>
internal sealed class PyRange(long start, long stop, long step, IEnumerable<object?> items) : List<object?>(items)
{
    public long Start => start;

    public long Step => step;

    public override string ToString() => step == 1 ? $"range({start}, {stop})" : $"range({start}, {stop}, {step})";
}

/// <summary>A function a template may call (raise_exception, range, namespace).</summary>
internal sealed record TemplateFunction(string Name, Func<List<object?>, Dictionary<string, object?>, object?> Invoke);

/// <summary>A method looked up on a value (<c>content.strip</c>), called by the following call expression.</summary>
internal sealed record BoundMethod(object Target, string Name);

internal static class TemplateValues
{
    public static bool IsTrue(object? v) => v switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        List<object?> l => l.Count > 0,
        Namespace => true, // a Python object without __len__
        Dictionary<string, object?> d => d.Count > 0,
        _ => true,
    };

    /// <summary>Python's str() of a value, as {{ }} prints it (Undefined prints as nothing).</summary>
    public static string ToText(object? v) => v switch
    {
        string s => s,
        Undefined => "",
        _ => Repr(v, top: true),
    };

    /// <summary>Python's repr() of a value.</summary>
    public static string Repr(object? v) => Repr(v, top: false);

    private static string Repr(object? v, bool top)
    {
        switch (v)
        {
            case null: return "None";
            case Undefined: return top ? "" : "Undefined";
            case PyRange range: return range.ToString();
            case bool b: return b ? "True" : "False";
            case long l: return l.ToString(CultureInfo.InvariantCulture);
            case double d: return FloatText(d);
            case string s: return top ? s : TemplateText.Repr(s);
            case PyTuple tuple: return "(" + string.Join(", ", tuple.Select(x => Repr(x, false))) + (tuple.Count == 1 ? ",)" : ")");
            case List<object?> list: return "[" + string.Join(", ", list.Select(x => Repr(x, false))) + "]";
            case Namespace ns: return "<Namespace {" + string.Join(", ", ns.Select(kv => Repr(kv.Key, false) + ": " + Repr(kv.Value, false))) + "}>";
            case Dictionary<string, object?> dict: return "{" + string.Join(", ", dict.Select(kv => Repr(kv.Key, false) + ": " + Repr(kv.Value, false))) + "}";
            default: return v.ToString() ?? "";
        }
    }

    /// <summary>
    /// Python's repr of a float: the shortest digits that read back to it, written out in full when the decimal exponent is
    /// from -4 to 15 (with ".0" when whole) and as d.ddde±XX otherwise (.NET's round-trip text switches at other exponents).
    /// </summary>
    public static string FloatText(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        string sign = r.StartsWith('-') ? "-" : "";
        if (sign.Length > 0) r = r[1..];
        int e = r.IndexOf('E');
        int exponent = e < 0 ? 0 : int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        string mantissa = e < 0 ? r : r[..e];
        int point = mantissa.IndexOf('.');
        string digits = point < 0 ? mantissa : mantissa.Remove(point, 1);
        int intDigits = point < 0 ? mantissa.Length : point;
        int leadingZeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        if (digits.Length == 0) return sign + "0.0";
        int exp = exponent + intDigits - 1 - leadingZeros; // the decimal exponent of the first significant digit
        if (exp is < -4 or >= 16)
            return sign + digits[0] + (digits.Length > 1 ? "." + digits[1..] : "") + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
        if (exp < 0) return sign + "0." + new string('0', -exp - 1) + digits;
        string whole = digits.Length > exp + 1 ? digits[..(exp + 1)] : digits.PadRight(exp + 1, '0');
        string fraction = digits.Length > exp + 1 ? digits[(exp + 1)..] : "0";
        return sign + whole + "." + fraction;
    }

    public static bool AreEqual(object? a, object? b)
    {
        if (a is Undefined || b is Undefined) return a is Undefined && b is Undefined;
        if (IsNumber(a) && IsNumber(b)) return ToDouble(a) == ToDouble(b);
        return (a, b) switch
        {
            (null, null) => true,
            (null, _) or (_, null) => false,
            (string x, string y) => x == y,
            (List<object?> x, List<object?> y) => (x is PyTuple) == (y is PyTuple) && (x is PyRange) == (y is PyRange) && x.Count == y.Count && x.Zip(y).All(p => AreEqual(p.First, p.Second)),
            (Namespace, _) or (_, Namespace) => ReferenceEquals(a, b),
            (Dictionary<string, object?> x, Dictionary<string, object?> y) =>
                x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var other) && AreEqual(kv.Value, other)),
            _ => ReferenceEquals(a, b),
        };
    }

    /// <summary>Python's <c>a op b</c> for op one of &lt; &gt; &lt;= &gt;=, failing where Python raises TypeError.</summary>
    public static bool Compare(string op, object? a, object? b, int line) => op switch
    {
        "<" => TemplateOrdering.Less(a, b, line),
        ">" => TemplateOrdering.Less(b, a, line),
        "<=" => TemplateOrdering.Less(a, b, line) || AreEqual(a, b),
        _ => TemplateOrdering.Less(b, a, line) || AreEqual(a, b),
    };

    /// <summary>Python's <c>item in container</c>.</summary>
    public static bool Contains(object? container, object? item, int line) => container switch
    {
        string s => item is string sub ? s.Contains(sub, StringComparison.Ordinal)
            : throw new TemplateException($"line {line}: 'in <string>' requires string as left operand, not {TypeName(item)}"),
        Namespace => throw new TemplateException($"line {line}: argument of type 'Namespace' is not iterable"),
        List<object?> list => list.Any(x => AreEqual(x, item)),
        Dictionary<string, object?> dict => item is string key ? dict.ContainsKey(key)
            : item is List<object?> and not PyTuple or Dictionary<string, object?> ? throw new TemplateException($"line {line}: unhashable type: '{TypeName(item)}'") : false,
        Undefined => false,
        _ => throw new TemplateException($"line {line}: argument of type '{TypeName(container)}' is not iterable"),
    };

    /// <summary>A string's characters as Python iterates them: code points (a surrogate pair stays one, a lone one is one).</summary>
    public static List<object?> CodePoints(string s)
    {
        var result = new List<object?>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            bool pair = char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]);
            result.Add(s.Substring(i, pair ? 2 : 1));
            if (pair) i++;
        }
        return result;
    }

    public static bool IsNumber(object? v) => v is long or double or bool;

    public static double ToDouble(object? v) => v switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => double.NaN,
    };

    public static string TypeName(object? v) => v switch
    {
        null => "None",
        Undefined => "undefined",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        PyTuple => "tuple",
        PyRange => "range",
        List<object?> => "list",
        Namespace => "namespace",
        Dictionary<string, object?> => "dict",
        _ => "function",
    };
}
