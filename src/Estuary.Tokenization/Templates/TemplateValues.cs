// The values a chat template computes with, behaving as Python's and Jinja's do: None, Undefined, str, int, float, bool,
// list, dict, namespace, callables and bound string/dict methods; truthiness, equality, ordering and str() conversion.
// Invariant: lists are List<object?>, mappings Dictionary<string, object?>; integers are long, floats double.
using System.Globalization;
using System.Text;

namespace Estuary.Tokenization.Templates;

/// <summary>Jinja's undefined value: prints as nothing, is false, and fails when used as anything else.</summary>
internal sealed class Undefined
{
    public static readonly Undefined Instance = new();
    private Undefined() { }
}

/// <summary>The mutable object of <c>namespace(...)</c>, the one thing <c>set ns.attr = …</c> may change.</summary>
internal sealed class Namespace : Dictionary<string, object?>;

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

    private static string Repr(object? v, bool top)
    {
        switch (v)
        {
            case null: return "None";
            case Undefined: return "";
            case bool b: return b ? "True" : "False";
            case long l: return l.ToString(CultureInfo.InvariantCulture);
            case double d: return FloatText(d);
            case string s: return top ? s : "'" + s.Replace("\\", "\\\\").Replace("'", "\\'").Replace("\n", "\\n") + "'";
            case List<object?> list: return "[" + string.Join(", ", list.Select(x => Repr(x, false))) + "]";
            case Dictionary<string, object?> dict: return "{" + string.Join(", ", dict.Select(kv => Repr(kv.Key, false) + ": " + Repr(kv.Value, false))) + "}";
            default: return v.ToString() ?? "";
        }
    }

    /// <summary>Python's repr of a float: shortest round-trip digits, always with a fraction or exponent.</summary>
    public static string FloatText(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        if (r.Contains('E'))
        {
            // 1E+16 → 1e+16, 1E-05 → 1e-05
            var parts = r.Split('E');
            int exp = int.Parse(parts[1], CultureInfo.InvariantCulture);
            return parts[0] + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
        }
        return r.Contains('.') ? r : r + ".0";
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
            (List<object?> x, List<object?> y) => x.Count == y.Count && x.Zip(y).All(p => AreEqual(p.First, p.Second)),
            (Dictionary<string, object?> x, Dictionary<string, object?> y) =>
                x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var other) && AreEqual(kv.Value, other)),
            _ => ReferenceEquals(a, b),
        };
    }

    public static int Compare(object? a, object? b, int line)
    {
        if (IsNumber(a) && IsNumber(b)) return ToDouble(a).CompareTo(ToDouble(b));
        if (a is string x && b is string y) return string.CompareOrdinal(x, y);
        throw new TemplateException($"line {line}: cannot order {TypeName(a)} and {TypeName(b)}");
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
        List<object?> => "list",
        Namespace => "namespace",
        Dictionary<string, object?> => "dict",
        _ => "function",
    };

    /// <summary>JSON as Hugging Face's tojson writes it (json.dumps with ensure_ascii off): ", " and ": " separators.</summary>
    public static string ToJson(object? v, int? indent, int depth = 0)
    {
        switch (v)
        {
            case null or Undefined: return "null";
            case bool b: return b ? "true" : "false";
            case long l: return l.ToString(CultureInfo.InvariantCulture);
            case double d: return FloatText(d);
            case string s:
                var sb = new StringBuilder("\"");
                foreach (char c in s)
                {
                    switch (c)
                    {
                        case '"': sb.Append("\\\""); break;
                        case '\\': sb.Append("\\\\"); break;
                        case '\n': sb.Append("\\n"); break;
                        case '\r': sb.Append("\\r"); break;
                        case '\t': sb.Append("\\t"); break;
                        case '\b': sb.Append("\\b"); break;
                        case '\f': sb.Append("\\f"); break;
                        default:
                            if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                            else sb.Append(c);
                            break;
                    }
                }
                return sb.Append('"').ToString();
        }
        IEnumerable<string> items;
        char open, close;
        if (v is List<object?> list)
        {
            items = list.Select(x => ToJson(x, indent, depth + 1));
            (open, close) = ('[', ']');
        }
        else if (v is Dictionary<string, object?> dict)
        {
            items = dict.Select(kv => ToJson(kv.Key, indent, depth + 1) + ": " + ToJson(kv.Value, indent, depth + 1));
            (open, close) = ('{', '}');
        }
        else throw new TemplateException($"a {TypeName(v)} cannot be written as JSON");
        var all = items.ToList();
        if (all.Count == 0) return $"{open}{close}";
        if (indent is not { } n) return open + string.Join(", ", all) + close;
        string pad = new(' ', n * (depth + 1)), outer = new(' ', n * depth);
        return open + "\n" + pad + string.Join(",\n" + pad, all) + "\n" + outer + close;
    }
}
