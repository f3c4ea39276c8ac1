// Jinja's tests (value is name(args)), all of Jinja2's builtins, as tests.py computes them over Python's values: number counts
// booleans, integer does not, even/odd/divisibleby use Python's '%' (floats too), lower/upper are str.islower/isupper of
// str(value), sameas is identity (None, True and False are one object each; so are the small ints CPython caches).
// Invariant: an unknown test fails naming it and its line when it is evaluated.
using System.Collections.Frozen;

namespace Estuary.Tokenization.Templates;

internal static class TemplateTests
{
    /// <summary>The tests <see cref="Test"/> knows.</summary>
    public static readonly FrozenSet<string> Names = FrozenSet.Create(StringComparer.Ordinal,
        "defined", "undefined", "none", "true", "false", "boolean", "string", "number", "integer", "float", "mapping", "sequence",
        "iterable", "callable", "even", "odd", "divisibleby", "equalto", "eq", "==", "sameas", "ne", "!=", "lt", "lessthan", "<",
        "gt", "greaterthan", ">", "le", "<=", "ge", ">=", "in", "lower", "upper", "escaped", "filter", "test");

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
            "number" => value is long or double or bool,
            "integer" => value is long,
            "float" => value is double,
            "mapping" => value is Dictionary<string, object?> and not Namespace,
            "sequence" => value is List<object?> or string or Undefined || value is Dictionary<string, object?> and not Namespace,
            "iterable" => value is List<object?> or string or Undefined || value is Dictionary<string, object?> and not Namespace,
            "callable" => value is TemplateFunction or BoundMethod or Undefined, // Undefined defines __call__ (to fail)
            "even" => TemplateValues.AreEqual(Modulo(value, 2L, line), 0L),
            "odd" => TemplateValues.AreEqual(Modulo(value, 2L, line), 1L),
            "divisibleby" => TemplateValues.AreEqual(Modulo(value, Arg(), line), 0L),
            "equalto" or "eq" or "==" => TemplateValues.AreEqual(value, Arg()),
            "sameas" => SameAs(value, Arg()),
            "ne" or "!=" => !TemplateValues.AreEqual(value, Arg()),
            "lt" or "lessthan" or "<" => TemplateValues.Compare("<", value, Arg(), line),
            "gt" or "greaterthan" or ">" => TemplateValues.Compare(">", value, Arg(), line),
            "le" or "<=" => TemplateValues.Compare("<=", value, Arg(), line),
            "ge" or ">=" => TemplateValues.Compare(">=", value, Arg(), line),
            "in" => TemplateValues.Contains(Arg(), value, line),
            "lower" => TemplateText.IsCase(TemplateValues.ToText(value), upper: false),
            "upper" => TemplateText.IsCase(TemplateValues.ToText(value), upper: true),
            "escaped" => false, // only markup (|e, |safe in an autoescaping environment) is; chat templates render without autoescape
            "filter" => Hashable(value, line) is string f && (TemplateFilters.Names.Contains(f) || TemplateFilters.JinjaOnly.Contains(f)),
            "test" => Hashable(value, line) is string t && Names.Contains(t),
            _ => throw new TemplateException($"line {line}: no test named '{name}'"),
        };
    }

    // A value looked up in a dict of names: lists and dicts are unhashable (TypeError).
    private static object? Hashable(object? value, int line)
    {
        switch (value)
        {
            case PyTuple tuple:
                foreach (var item in tuple) Hashable(item, line); // a tuple hashes its items
                return value;
            case Namespace or PyRange: // an object hashed by identity, a range by its numbers
                return value;
            case Dictionary<string, object?> or List<object?>:
                throw new TemplateException($"line {line}: unhashable type: '{TemplateValues.TypeName(value)}'");
            default:
                return value;
        }
    }

    // Python's value % n for numbers (bools count as ints), failing where Python raises TypeError or ZeroDivisionError.
    private static object Modulo(object? value, object? n, int line)
    {
        if (!TemplateValues.IsNumber(value) || !TemplateValues.IsNumber(n))
            throw new TemplateException($"line {line}: unsupported operand types for %: {TemplateValues.TypeName(value)} and {TemplateValues.TypeName(n)}");
        if (TemplateValues.ToDouble(n) == 0) throw new TemplateException($"line {line}: division by zero");
        if (value is double || n is double)
        {
            double a = TemplateValues.ToDouble(value), b = TemplateValues.ToDouble(n), m = a % b;
            return m != 0 && (b < 0) != (m < 0) ? m + b : m;
        }
        long p = (long)TemplateValues.ToDouble(value), q = (long)TemplateValues.ToDouble(n), r = p % q;
        return r != 0 && (q < 0) != (r < 0) ? r + q : r;
    }

    // Python's 'is': None, True and False are singletons, ints from -5 to 256 are cached; other values are the same only
    // when they are one object.
    private static bool SameAs(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (bool x, bool y) => x == y,
        (long x, long y) => x == y && x is >= -5 and <= 256,
        (null, _) or (_, null) or (bool, _) or (_, bool) or (long, _) or (_, long) => false,
        _ => ReferenceEquals(a, b),
    };
}
