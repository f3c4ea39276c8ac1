// The ordering filters of Jinja (dictsort, sort, unique, min, max, sum) with Python's semantics: sorted() is stable (also
// reversed), ordering uses only Python's '<' (int/float/bool among themselves, str by code point, lists element by element
// after an equality check), strings are lower-cased for comparison unless case_sensitive, and attributes are looked up as
// Jinja's environment.getitem does ('a.b' walks keys, all-digit parts index lists). Invariant: a comparison Python would
// refuse (int with str, None with None, anything with an undefined value) fails naming the types and the line.
namespace Estuary.Tokenization.Templates;

/// <summary>A Python tuple (a tuple literal, dictsort's pairs): prints as <c>('a', 1)</c>, is hashable in unique and is not
/// ordered against a list; otherwise a list to the renderer.</summary>
internal class PyTuple : List<object?>
{
    public PyTuple(params object?[] items) : base(items) { }
}

internal static class TemplateOrdering
{
    /// <summary>Python's <c>a &lt; b</c> for template values, failing where Python raises TypeError.</summary>
    public static bool Less(object? a, object? b, int line)
    {
        if (TemplateValues.IsNumber(a) && TemplateValues.IsNumber(b))
            return a is long or bool && b is long or bool ? AsLong(a) < AsLong(b) : TemplateValues.ToDouble(a) < TemplateValues.ToDouble(b);
        if (a is string x && b is string y) return CompareCodePoints(x, y) < 0;
        if (a is List<object?> p && b is List<object?> q && (a is PyTuple) == (b is PyTuple) && a is not PyRange && b is not PyRange)
        {
            for (int i = 0; i < Math.Min(p.Count, q.Count); i++)
                if (!TemplateValues.AreEqual(p[i], q[i])) return Less(p[i], q[i], line);
            return p.Count < q.Count;
        }
        if (a is Undefined || b is Undefined) throw new TemplateException($"line {line}: cannot order an undefined value");
        throw new TemplateException($"line {line}: '<' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'");
    }

    private static string TypeName(object? v) => v is PyTuple ? "tuple" : TemplateValues.TypeName(v);

    private static long AsLong(object? v) => v is bool b ? (b ? 1 : 0) : (long)v!;

    /// <summary>Python's str ordering: by code point (UTF-16 order differs for characters past U+FFFF against U+E000–U+FFFF).</summary>
    public static int CompareCodePoints(string x, string y)
    {
        for (int i = 0; i < Math.Min(x.Length, y.Length); i++)
        {
            char a = x[i], b = y[i];
            if (a == b) continue;
            bool sa = char.IsSurrogate(a), sb = char.IsSurrogate(b); // half of a character past U+FFFF: after every BMP one
            return sa != sb ? (sa ? 1 : -1) : a < b ? -1 : 1;
        }
        return x.Length.CompareTo(y.Length);
    }

    /// <summary>Jinja's ignore_case: strings lower-cased, other values as they are.</summary>
    public static object? Fold(object? v, bool caseSensitive) => !caseSensitive && v is string s ? TemplateText.Lower(s) : v;

    /// <summary>Jinja's attribute parts: none, an int, or a string split at dots with all-digit parts read as ints.</summary>
    public static List<object?> AttributeParts(object? attribute) => attribute switch
    {
        null => [],
        string s => [.. s.Split('.').Select(p => p.Length > 0 && p.All(char.IsAsciiDigit) ? (object?)long.Parse(p, System.Globalization.CultureInfo.InvariantCulture) : p)],
        _ => [attribute],
    };

    /// <summary>Jinja's environment.getitem for one part: a key, an index (negative from the end), else undefined.</summary>
    public static object? GetPart(object? item, object? part, int line) => item is Undefined
        ? throw new TemplateException($"line {line}: {TemplateValues.ToText(part)} of an undefined value")
        : TemplateEvaluator.GetItem(item, part, line);

    public static object? Lookup(object? item, List<object?> parts, int line)
    {
        foreach (var part in parts) item = GetPart(item, part, line);
        return item;
    }

    /// <summary>Python's sorted(items, key=…, reverse=…): stable both ways, keys computed first.</summary>
    public static List<object?> Sorted(List<object?> items, Func<object?, object?> key, bool reverse, int line)
    {
        var keys = items.Select(key).ToList();
        int Compare(int i, int j) => Less(keys[i], keys[j], line) ? -1 : Less(keys[j], keys[i], line) ? 1 : 0;
        var order = Enumerable.Range(0, items.Count).ToArray();
        MergeSort(order, new int[order.Length], 0, order.Length, reverse ? (i, j) => Compare(j, i) : Compare);
        return [.. order.Select(i => items[i])];
    }

    // A stable merge sort (LINQ's and Array.Sort's wrap a comparer's exception; a template's must pass through as it is).
    private static void MergeSort(int[] a, int[] scratch, int from, int to, Func<int, int, int> compare)
    {
        if (to - from < 2) return;
        int mid = (from + to) / 2;
        MergeSort(a, scratch, from, mid, compare);
        MergeSort(a, scratch, mid, to, compare);
        int i = from, j = mid, k = from;
        while (i < mid && j < to) scratch[k++] = compare(a[j], a[i]) < 0 ? a[j++] : a[i++];
        while (i < mid) scratch[k++] = a[i++];
        while (j < to) scratch[k++] = a[j++];
        Array.Copy(scratch, from, a, from, to - from);
    }

    public static List<object?> DictSort(object? value, bool caseSensitive, object? by, bool reverse, int line)
    {
        int pos = by switch
        {
            "key" => 0,
            "value" => 1,
            _ => throw new TemplateException($"line {line}: dictsort can only sort by \"key\" or \"value\""),
        };
        if (value is not Dictionary<string, object?> map) throw new TemplateException($"line {line}: dictsort of {TemplateValues.TypeName(value)}, not a mapping");
        var pairs = map.Select(kv => (object?)new PyTuple(kv.Key, kv.Value)).ToList();
        return Sorted(pairs, p => Fold(((PyTuple)p!)[pos], caseSensitive), reverse, line);
    }

    /// <summary>Jinja's sort: the key is the list of the comma-separated attributes' values (the item itself without one).</summary>
    public static List<object?> Sort(List<object?> items, bool reverse, bool caseSensitive, object? attribute, int line)
    {
        var paths = (attribute is string s ? s.Split(',').Select(a => (object?)a) : [attribute]).Select(AttributeParts).ToList();
        return Sorted(items, item => paths.Select(p => Fold(Lookup(item, p, line), caseSensitive)).ToList(), reverse, line);
    }

    /// <summary>Jinja's unique: the first item of each distinct key, in order; keys must be hashable as in Python's set.</summary>
    public static List<object?> Unique(List<object?> items, bool caseSensitive, object? attribute, int line)
    {
        var parts = AttributeParts(attribute);
        var seen = new HashSet<(int Kind, double Number, string? Text)>();
        var seenTuples = new List<object?>(); // tuples are hashable when what they hold is: found by equality, numbered
        var result = new List<object?>();
        foreach (var item in items)
        {
            var k = Fold(Lookup(item, parts, line), caseSensitive);
            (int, double, string?) hashKey = k switch
            {
                null => (0, 0, null),
                Undefined => (1, 0, null),
                string str => (2, 0, str),
                _ when TemplateValues.IsNumber(k) => (3, TemplateValues.ToDouble(k), null),
                PyTuple tuple when Hashable(tuple) => (4, seenTuples.FindIndex(t => TemplateValues.AreEqual(t, tuple)) is var at && at >= 0 ? at : seenTuples.Count, null),
                _ => throw new TemplateException($"line {line}: unhashable type: '{TypeName(k)}'"),
            };
            if (!seen.Add(hashKey)) continue;
            if (k is PyTuple) seenTuples.Add(k);
            result.Add(item);
        }
        return result;
    }

    private static bool Hashable(object? v) => v switch
    {
        PyTuple t => t.All(Hashable),
        List<object?> or Dictionary<string, object?> => false,
        _ => true,
    };

    /// <summary>Jinja's min and max: the first smallest (largest) item by key; undefined when there is none.</summary>
    public static object? Extreme(List<object?> items, bool max, bool caseSensitive, object? attribute, int line)
    {
        if (items.Count == 0) return Undefined.Instance;
        var parts = AttributeParts(attribute);
        object? best = items[0], bestKey = Fold(Lookup(best, parts, line), caseSensitive);
        foreach (var item in items.Skip(1))
        {
            var k = Fold(Lookup(item, parts, line), caseSensitive);
            if (max ? Less(bestKey, k, line) : Less(k, bestKey, line)) (best, bestKey) = (item, k);
        }
        return best;
    }

    /// <summary>Jinja's sum: Python's sum(values, start) over numbers (int stays int), or lists with a list start.</summary>
    public static object? Sum(List<object?> items, object? attribute, object? start, int line)
    {
        var parts = AttributeParts(attribute);
        if (start is string) throw new TemplateException($"line {line}: sum() can't sum strings");
        object? total = start;
        foreach (var item in items)
        {
            var x = Lookup(item, parts, line);
            if (total is List<object?> tl && x is List<object?> xl) total = tl.Concat(xl).ToList();
            else if (TemplateValues.IsNumber(total) && TemplateValues.IsNumber(x))
                total = total is long or bool && x is long or bool ? (object)AddIntegers(AsLong(total), AsLong(x), line) : TemplateValues.ToDouble(total) + TemplateValues.ToDouble(x);
            else throw new TemplateException($"line {line}: unsupported operand types for +: '{TypeName(total)}' and '{TypeName(x)}'");
        }
        return total;
    }

    private static long AddIntegers(long a, long b, int line)
    {
        try { return checked(a + b); }
        catch (OverflowException) { throw new TemplateException($"line {line}: sum is too large for a chat template"); }
    }
}
