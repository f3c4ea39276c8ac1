// Jinja's filters (value | name(args)) and tests (value is name) as chat templates use them, with transformers' tojson
// (TemplateJson); the ordering filters (dictsort, sort, unique, min, max, sum) are in TemplateOrdering, round, indent,
// wordcount, center, batch and slice in TemplateShaping, all as Jinja2's filters.py computes them. Invariant: an unknown filter or test fails naming it and its line when it is evaluated; a template that
// uses one only in a branch a request never takes loads and serves, as it does with transformers.
using System.Collections.Frozen;
using System.Globalization;

namespace Estuary.Tokenization.Templates;

internal static class TemplateFilters
{
    /// <summary>The filters <see cref="Apply"/> knows.</summary>
    public static readonly FrozenSet<string> Filters = FrozenSet.Create(StringComparer.Ordinal,
        "trim", "upper", "lower", "title", "capitalize", "string", "safe", "length", "count", "first", "last", "list", "reverse",
        "join", "default", "d", "replace", "int", "float", "abs", "tojson", "map", "selectattr", "rejectattr", "select", "reject", "items",
        "dictsort", "sort", "unique", "min", "max", "sum", "round", "indent", "wordcount", "center", "batch", "slice");

    /// <summary>The tests <see cref="Test"/> knows.</summary>
    public static readonly FrozenSet<string> Tests = FrozenSet.Create(StringComparer.Ordinal,
        "defined", "undefined", "none", "true", "false", "boolean", "string", "number", "integer", "float", "mapping", "sequence",
        "iterable", "callable", "even", "odd", "divisibleby", "equalto", "eq", "==", "sameas", "ne", "!=", "lt", "lessthan", "<",
        "gt", "greaterthan", ">", "le", "<=", "ge", ">=", "in", "lower", "upper");

    public static object? Apply(string name, object? value, List<object?> args, Dictionary<string, object?> kwargs, int line)
    {
        object? Arg(int i, string key, object? fallback) => i < args.Count ? args[i] : kwargs.TryGetValue(key, out var v) ? v : fallback;
        switch (name)
        {
            case "trim": // trim(chars=None): Python's str.strip
                return TemplateMethods.PyStrip(Text(value), Arg(0, "chars", null) as string, true, true);
            case "upper": return Text(value).ToUpperInvariant();
            case "lower": return Text(value).ToLowerInvariant();
            case "title": return Title(Text(value));
            case "capitalize": return Capitalize(Text(value));
            case "string": return TemplateValues.ToText(value);
            case "safe": return value;
            case "length" or "count":
                return value switch
                {
                    string s => (long)s.EnumerateRunes().Count(), // Python's len counts code points, not UTF-16 units
                    List<object?> l => (long)l.Count,
                    Dictionary<string, object?> d => (long)d.Count,
                    Undefined => 0L,
                    _ => throw new TemplateException($"line {line}: {TemplateValues.TypeName(value)} has no length"),
                };
            case "first": return Items(value, line) is { Count: > 0 } f ? f[0] : Undefined.Instance;
            case "last": return Items(value, line) is { Count: > 0 } l2 ? l2[^1] : Undefined.Instance;
            case "list": return value is PyTuple tuple ? [.. tuple] : Items(value, line);
            case "reverse": return value is string rs ? string.Concat(Enumerable.Reverse(TemplateValues.CodePoints(rs)).Cast<string>())
                : Enumerable.Reverse(Items(value, line)).ToList();
            case "join":
                return string.Join(TemplateValues.ToText(Arg(0, "d", "")), Items(value, line).Select(TemplateValues.ToText));
            case "default" or "d":
                bool boolean = TemplateValues.IsTrue(Arg(1, "boolean", false));
                bool missing = value is Undefined || boolean && !TemplateValues.IsTrue(value);
                return missing ? Arg(0, "default_value", "") : value;
            case "replace":
                return TemplateMethods.PyReplace(Text(value), Text(Arg(0, "old", "")), Text(Arg(1, "new", "")), Arg(2, "count", null) is long n ? n : -1);
            case "int":
                return value switch
                {
                    long l => l,
                    double d => (long)Math.Truncate(d),
                    bool b => b ? 1L : 0L,
                    string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
                    _ => Arg(0, "default", 0L),
                };
            case "float":
                return value switch
                {
                    long l => (double)l,
                    double d => d,
                    string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
                    _ => Arg(0, "default", 0.0),
                };
            case "abs":
                if (value is long al) return Math.Abs(al);
                return value is double ad ? Math.Abs(ad) : throw new TemplateException($"line {line}: abs of {TemplateValues.TypeName(value)}");
            case "tojson": return TemplateJson.Write(value, JsonOptions.FromArguments(args, kwargs, line), line);
            case "map":
                if (kwargs.TryGetValue("attribute", out var attribute) && attribute is string attr)
                    return Items(value, line).Select(x => x is Dictionary<string, object?> d && d.TryGetValue(attr, out var v) ? v : Undefined.Instance).ToList();
                if (args.Count > 0 && args[0] is string filter)
                    return Items(value, line).Select(x => Apply(filter, x, [.. args.Skip(1)], [], line)).ToList();
                throw new TemplateException($"line {line}: map needs attribute= or a filter name");
            case "selectattr" or "rejectattr":
                if (args.Count == 0 || args[0] is not string key) throw new TemplateException($"line {line}: {name} needs an attribute name");
                bool keep = name == "selectattr";
                return Items(value, line).Where(x =>
                {
                    var attrValue = x is Dictionary<string, object?> d && d.TryGetValue(key, out var v) ? v : Undefined.Instance;
                    bool passes = args.Count < 2 ? TemplateValues.IsTrue(attrValue) : Test(Text(args[1]), attrValue, [.. args.Skip(2)], line);
                    return passes == keep;
                }).ToList();
            case "select" or "reject":
                bool select = name == "select";
                return Items(value, line).Where(x =>
                    (args.Count == 0 ? TemplateValues.IsTrue(x) : Test(Text(args[0]), x, [.. args.Skip(1)], line)) == select).ToList();
            case "items":
                return value is Dictionary<string, object?> dict ? dict.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList()
                    : throw new TemplateException($"line {line}: items of {TemplateValues.TypeName(value)}");
            case "dictsort": // dictsort(case_sensitive=False, by='key', reverse=False): (key, value) pairs
                return TemplateOrdering.DictSort(value, TemplateValues.IsTrue(Arg(0, "case_sensitive", false)), Arg(1, "by", "key"),
                    TemplateValues.IsTrue(Arg(2, "reverse", false)), line);
            case "sort": // sort(reverse=False, case_sensitive=False, attribute=None)
                return TemplateOrdering.Sort(Items(value, line), TemplateValues.IsTrue(Arg(0, "reverse", false)),
                    TemplateValues.IsTrue(Arg(1, "case_sensitive", false)), Arg(2, "attribute", null), line);
            case "unique": // unique(case_sensitive=False, attribute=None)
                return TemplateOrdering.Unique(Items(value, line), TemplateValues.IsTrue(Arg(0, "case_sensitive", false)), Arg(1, "attribute", null), line);
            case "min" or "max": // min(case_sensitive=False, attribute=None)
                return TemplateOrdering.Extreme(Items(value, line), name == "max", TemplateValues.IsTrue(Arg(0, "case_sensitive", false)),
                    Arg(1, "attribute", null), line);
            case "sum": // sum(attribute=None, start=0)
                return TemplateOrdering.Sum(Items(value, line), Arg(0, "attribute", null), Arg(1, "start", 0L), line);
            case "round": // round(precision=0, method='common')
                return TemplateShaping.Round(value, Arg(0, "precision", 0L), Arg(1, "method", "common"), line);
            case "indent": // indent(width=4, first=False, blank=False)
                return TemplateShaping.Indent(value, Arg(0, "width", 4L), TemplateValues.IsTrue(Arg(1, "first", false)),
                    TemplateValues.IsTrue(Arg(2, "blank", false)), line);
            case "wordcount": return TemplateShaping.WordCount(value);
            case "center": return TemplateShaping.Center(value, Arg(0, "width", 80L), line);
            case "batch" or "slice": // batch(linecount, fill_with=None), slice(slices, fill_with=None)
            {
                var fill = Arg(1, "fill_with", null);
                var count = Arg(0, name == "batch" ? "linecount" : "slices", Undefined.Instance);
                return name == "batch" ? TemplateShaping.Batch(Items(value, line), count, fill, fill is not null, line)
                    : TemplateShaping.Slice(Items(value, line), count, fill, fill is not null, line);
            }
            default:
                throw new TemplateException($"line {line}: the filter '{name}' is not supported in chat templates");
        }
    }

    public static bool Test(string name, object? value, List<object?> args, int line)
    {
        object? Arg() => args.Count > 0 ? args[0] : throw new TemplateException($"line {line}: the test '{name}' needs a value");
        return name switch
        {
            "defined" => value is not Undefined,
            "undefined" => value is Undefined,
            "none" => value is null,
            "true" => value is true,
            "false" => value is false,
            "boolean" => value is bool,
            "string" => value is string,
            "number" => value is long or double,
            "integer" => value is long,
            "float" => value is double,
            "mapping" => value is Dictionary<string, object?>,
            "sequence" or "iterable" => value is List<object?> or string or Dictionary<string, object?>,
            "callable" => value is TemplateFunction or BoundMethod,
            "even" => value is long e && e % 2 == 0,
            "odd" => value is long o && o % 2 != 0,
            "divisibleby" => value is long dv && Arg() is long by && by != 0 && dv % by == 0,
            "equalto" or "eq" or "==" or "sameas" => TemplateValues.AreEqual(value, Arg()),
            "ne" or "!=" => !TemplateValues.AreEqual(value, Arg()),
            "lt" or "lessthan" or "<" => TemplateValues.Compare(value, Arg(), line) < 0,
            "gt" or "greaterthan" or ">" => TemplateValues.Compare(value, Arg(), line) > 0,
            "le" or "<=" => TemplateValues.Compare(value, Arg(), line) <= 0,
            "ge" or ">=" => TemplateValues.Compare(value, Arg(), line) >= 0,
            "in" => Arg() switch
            {
                List<object?> l => l.Any(x => TemplateValues.AreEqual(x, value)),
                string s => value is string sub && s.Contains(sub, StringComparison.Ordinal),
                Dictionary<string, object?> d => value is string k && d.ContainsKey(k),
                _ => false,
            },
            "lower" => value is string ls && ls == ls.ToLowerInvariant(),
            "upper" => value is string us && us == us.ToUpperInvariant(),
            _ => throw new TemplateException($"line {line}: the test '{name}' is not supported in chat templates"),
        };
    }

    private static string Text(object? v) => TemplateValues.ToText(v);

    private static List<object?> Items(object? value, int line) => value switch
    {
        List<object?> l => l,
        string s => TemplateValues.CodePoints(s),
        Dictionary<string, object?> d => [.. d.Keys],
        Undefined => [],
        _ => throw new TemplateException($"line {line}: {TemplateValues.TypeName(value)} is not a sequence"),
    };

    public static string Title(string s)
    {
        var chars = s.ToCharArray();
        bool start = true;
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = start ? char.ToUpperInvariant(chars[i]) : char.ToLowerInvariant(chars[i]);
            start = !char.IsLetter(chars[i]);
        }
        return new string(chars);
    }

    public static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();
}
