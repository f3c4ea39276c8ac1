// Jinja's filters (value | name(args)), all of Jinja2's builtins but the HTML ones (urlize, xmlattr, striptags), pprint and random,
// with transformers' tojson (TemplateJson); the ordering filters (dictsort, sort, unique, min, max, sum) are in
// TemplateOrdering, groupby in TemplateGrouping, round, indent, wordcount, center, batch and slice in TemplateShaping, title,
// truncate, escape, urlencode, filesizeformat, int and float in TemplateTextFilters, wordwrap in TemplateWordWrap, format in
// TemplatePercentFormat, all as Jinja2's filters.py computes them; the tests are in TemplateTests. Invariant: a filter this
// does not run fails naming it and its line when it is evaluated (TemplateNameCheck already refused, at load, the names Jinja
// does not know outside if blocks); a template that uses one only in a branch a request never takes loads and serves.
using System.Collections.Frozen;
using System.Globalization;

namespace Estuary.Tokenization.Templates;

internal static class TemplateFilters
{
    /// <summary>The filters <see cref="Apply"/> knows.</summary>
    public static readonly FrozenSet<string> Names = FrozenSet.Create(StringComparer.Ordinal,
        "trim", "upper", "lower", "title", "capitalize", "string", "safe", "length", "count", "first", "last", "list", "reverse",
        "join", "default", "d", "replace", "int", "float", "abs", "tojson", "map", "selectattr", "rejectattr", "select", "reject", "items",
        "dictsort", "sort", "unique", "min", "max", "sum", "round", "indent", "wordcount", "center", "batch", "slice", "groupby",
        "truncate", "format", "wordwrap", "attr", "escape", "e", "forceescape", "urlencode", "filesizeformat");

    /// <summary>Jinja's builtin filters that chat templates do not get here (HTML ones, and random, whose output no reference can check).</summary>
    public static readonly FrozenSet<string> JinjaOnly = FrozenSet.Create(StringComparer.Ordinal, "pprint", "random", "striptags", "urlize", "xmlattr");

    public static object? Apply(string name, object? value, List<object?> args, Dictionary<string, object?> kwargs, int line)
    {
        object? Arg(int i, string key, object? fallback) => i < args.Count ? args[i] : kwargs.TryGetValue(key, out var v) ? v : fallback;
        switch (name)
        {
            case "trim": // trim(chars=None): Python's str.strip
                return TemplateMethods.PyStrip(Text(value), Arg(0, "chars", null) as string, true, true);
            case "upper": return TemplateText.Upper(Text(value));
            case "lower": return TemplateText.Lower(Text(value));
            case "title": return TemplateTextFilters.Title(Text(value));
            case "capitalize": return TemplateText.Capitalize(Text(value));
            case "string": return TemplateValues.ToText(value);
            case "safe": return value;
            case "length" or "count":
                return value switch
                {
                    string s => (long)TemplateText.Length(s), // Python's len counts code points, not UTF-16 units
                    List<object?> l => (long)l.Count,
                    Namespace => throw new TemplateException($"line {line}: a namespace has no length"),
                    Dictionary<string, object?> d => (long)d.Count,
                    Undefined => 0L,
                    _ => throw new TemplateException($"line {line}: {TemplateValues.TypeName(value)} has no length"),
                };
            case "first": return Items(value, line) is { Count: > 0 } f ? f[0] : Undefined.Instance;
            case "last": return Items(value, line) is { Count: > 0 } l2 ? l2[^1] : Undefined.Instance;
            case "list": return value is PyTuple tuple ? [.. tuple] : Items(value, line);
            case "reverse": return value is string rs ? string.Concat(Enumerable.Reverse(TemplateValues.CodePoints(rs)).Cast<string>())
                : Enumerable.Reverse(Items(value, line)).ToList();
            case "join": // join(d='', attribute=None)
            {
                var parts = TemplateOrdering.AttributeParts(Arg(1, "attribute", null));
                return string.Join(TemplateValues.ToText(Arg(0, "d", "")), Items(value, line).Select(x => TemplateValues.ToText(TemplateOrdering.Lookup(x, parts, line))));
            }
            case "default" or "d":
                bool boolean = TemplateValues.IsTrue(Arg(1, "boolean", false));
                bool missing = value is Undefined || boolean && !TemplateValues.IsTrue(value);
                return missing ? Arg(0, "default_value", "") : value;
            case "replace":
                return TemplateMethods.PyReplace(Text(value), Text(Arg(0, "old", "")), Text(Arg(1, "new", "")), Arg(2, "count", null) is long n ? n : -1);
            case "int": return TemplateTextFilters.ToInt(value, Arg(0, "default", 0L), Arg(1, "base", 10L), line);
            case "float": return TemplateTextFilters.ToFloat(value, Arg(0, "default", 0.0), line);
            case "abs":
                if (value is long or bool) return Math.Abs((long)TemplateValues.ToDouble(value));
                return value is double ad ? Math.Abs(ad) : throw new TemplateException($"line {line}: abs of {TemplateValues.TypeName(value)}");
            case "tojson": return TemplateJson.Write(value, JsonOptions.FromArguments(args, kwargs, line), line);
            case "map": // map(attribute=…, default=…) or map('filter', *args, **kwargs)
                if (args.Count == 0 && kwargs.TryGetValue("attribute", out var attribute))
                {
                    var parts = TemplateOrdering.AttributeParts(attribute);
                    var fallback = kwargs.GetValueOrDefault("default");
                    return Items(value, line).Select(x =>
                    {
                        foreach (var part in parts)
                        {
                            x = TemplateOrdering.GetPart(x, part, line);
                            if (fallback is not null && x is Undefined) x = fallback;
                        }
                        return x;
                    }).ToList();
                }
                if (args.Count > 0 && args[0] is string filter)
                    return Items(value, line).Select(x => Apply(filter, x, [.. args.Skip(1)], kwargs, line)).ToList();
                throw new TemplateException($"line {line}: map needs attribute= or a filter name");
            case "selectattr" or "rejectattr":
            {
                if (args.Count == 0 || args[0] is not (string or long)) throw new TemplateException($"line {line}: {name} needs an attribute name");
                bool keep = name == "selectattr";
                var parts = TemplateOrdering.AttributeParts(args[0]);
                return Items(value, line).Where(x =>
                {
                    var attrValue = TemplateOrdering.Lookup(x, parts, line);
                    bool passes = args.Count < 2 ? TemplateValues.IsTrue(attrValue) : TemplateTests.Test(Text(args[1]), attrValue, [.. args.Skip(2)], line);
                    return passes == keep;
                }).ToList();
            }
            case "select" or "reject":
                bool select = name == "select";
                return Items(value, line).Where(x =>
                    (args.Count == 0 ? TemplateValues.IsTrue(x) : TemplateTests.Test(Text(args[0]), x, [.. args.Skip(1)], line)) == select).ToList();
            case "items":
                return value switch
                {
                    Undefined => [],
                    Namespace => throw new TemplateException($"line {line}: items of a namespace"),
                    Dictionary<string, object?> dict => dict.Select(kv => (object?)new PyTuple(kv.Key, kv.Value)).ToList(),
                    _ => throw new TemplateException($"line {line}: items of {TemplateValues.TypeName(value)}, not a mapping"),
                };
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
            case "groupby": // groupby(attribute, default=None, case_sensitive=False)
                return TemplateGrouping.GroupBy(Items(value, line), Arg(0, "attribute", null), Arg(1, "default", null),
                    TemplateValues.IsTrue(Arg(2, "case_sensitive", false)), line);
            case "truncate": // truncate(length=255, killwords=False, end='...', leeway=None → 5)
                return TemplateTextFilters.Truncate(value, Arg(0, "length", 255L), TemplateValues.IsTrue(Arg(1, "killwords", false)),
                    Arg(2, "end", "..."), Arg(3, "leeway", null) ?? 5L, line);
            case "format": // format(*args) or format(**kwargs): str(value) % args
                if (args.Count > 0 && kwargs.Count > 0) throw new TemplateException($"line {line}: format can't handle positional and keyword arguments at the same time");
                return TemplatePercentFormat.Format(Text(value), kwargs.Count > 0 ? new Dictionary<string, object?>(kwargs) : new PyTuple([.. args]), line);
            case "wordwrap": // wordwrap(width=79, break_long_words=True, wrapstring=None, break_on_hyphens=True)
                return TemplateWordWrap.Wrap(value, Arg(0, "width", 79L), TemplateValues.IsTrue(Arg(1, "break_long_words", true)),
                    Arg(2, "wrapstring", null), TemplateValues.IsTrue(Arg(3, "break_on_hyphens", true)), line);
            case "attr": // attr(name): Python's getattr only (a dict's keys are not its attributes)
            {
                string attrName = TemplateValues.ToText(Arg(0, "name", null));
                return value is Dictionary<string, object?> and not Namespace && !TemplateMethods.IsDictMethod(attrName) || value is Undefined
                    ? Undefined.Instance : TemplateEvaluator.GetAttribute(value, attrName, line);
            }
            case "escape" or "e" or "forceescape": return TemplateTextFilters.Escape(value);
            case "urlencode": return TemplateTextFilters.UrlEncode(value, line);
            case "filesizeformat": return TemplateTextFilters.FileSize(value, TemplateValues.IsTrue(Arg(0, "binary", false)), line);
            default:
                throw new TemplateException(JinjaOnly.Contains(name) ? $"line {line}: the filter '{name}' is not supported in chat templates"
                    : $"line {line}: no filter named '{name}'");
        }
    }

    private static string Text(object? v) => TemplateValues.ToText(v);

    private static List<object?> Items(object? value, int line) => value switch
    {
        List<object?> l => l,
        string s => TemplateValues.CodePoints(s),
        Namespace => throw new TemplateException($"line {line}: a namespace is not iterable"),
        Dictionary<string, object?> d => [.. d.Keys],
        Undefined => [],
        _ => throw new TemplateException($"line {line}: {TemplateValues.TypeName(value)} is not a sequence"),
    };
}
