// The global functions of Jinja's environment that chat templates call: range (capped as the sandbox caps it), namespace,
// dict, cycler and joiner; raise_exception and strftime_now are added by the evaluator as transformers adds them.
// Invariant: each behaves as Jinja's (defaults.py, utils.py) for the arguments a template can pass, and fails naming itself otherwise.
namespace Estuary.Tokenization.Templates;

/// <summary>Jinja's cycler(*items): <c>next()</c> returns the current item and moves on, <c>current</c> reads it, <c>reset()</c>.</summary>
internal sealed class Cycler(List<object?> items)
{
    private int _position;

    public object? Attribute(string name) => name switch
    {
        "items" => items,
        "current" => items[_position],
        "next" => new TemplateFunction("next", (_, _) =>
        {
            var value = items[_position];
            _position = (_position + 1) % items.Count;
            return value;
        }),
        "reset" => new TemplateFunction("reset", (_, _) =>
        {
            _position = 0;
            return null;
        }),
        _ => Undefined.Instance,
    };
}

internal static class TemplateGlobals
{
    /// <summary>The sandbox's limit on range(): longer ranges fail (OverflowError in Jinja).</summary>
    public const int MaxRange = 100_000;

    public static void AddTo(Dictionary<string, object?> globals)
    {
        globals["range"] = new TemplateFunction("range", Range);
        globals["namespace"] = new TemplateFunction("namespace", (args, kwargs) =>
        {
            var ns = new Namespace();
            foreach (var kv in Mapping("namespace", args, kwargs)) ns[kv.Key] = kv.Value;
            return ns;
        });
        globals["dict"] = new TemplateFunction("dict", (args, kwargs) => Mapping("dict", args, kwargs));
        globals["cycler"] = new TemplateFunction("cycler", (args, kwargs) =>
        {
            if (kwargs.Count > 0) throw new TemplateException($"cycler() got an unexpected keyword argument '{kwargs.Keys.First()}'");
            if (args.Count == 0) throw new TemplateException("cycler() needs at least one item");
            return new Cycler(args);
        });
        globals["joiner"] = new TemplateFunction("joiner", (args, kwargs) =>
        {
            var sep = args.Count > 0 ? args[0] : kwargs.TryGetValue("sep", out var s) ? s : ", ";
            bool used = false;
            return new TemplateFunction("joiner", (_, _) =>
            {
                if (used) return sep;
                used = true;
                return "";
            });
        });
    }

    // dict(mapping or pairs, **kwargs), as Python's dict() builds it (namespace() takes the same arguments).
    private static Dictionary<string, object?> Mapping(string name, List<object?> args, Dictionary<string, object?> kwargs)
    {
        if (args.Count > 1) throw new TemplateException($"{name}() takes at most 1 positional argument ({args.Count} given)");
        var result = new Dictionary<string, object?>();
        switch (args.Count > 0 ? args[0] : null)
        {
            case null when args.Count == 0: break;
            case Namespace:
                throw new TemplateException($"{name}() cannot read a namespace as a mapping");
            case Dictionary<string, object?> initial:
                foreach (var kv in initial) result[kv.Key] = kv.Value;
                break;
            case List<object?> pairs:
                foreach (var pair in pairs)
                {
                    if (pair is not List<object?> { Count: 2 } kv) throw new TemplateException($"{name}() needs pairs of key and value");
                    result[kv[0] as string ?? throw new TemplateException($"{name}(): dictionary keys must be strings in chat templates")] = kv[1];
                }
                break;
            case var other:
                throw new TemplateException($"{name}() cannot make a mapping of {TemplateValues.TypeName(other)}");
        }
        foreach (var kv in kwargs) result[kv.Key] = kv.Value;
        return result;
    }

    private static object? Range(List<object?> args, Dictionary<string, object?> kwargs)
    {
        if (kwargs.Count > 0) throw new TemplateException("range() takes no keyword arguments");
        var n = args.Select(a => a switch
        {
            long l => l,
            bool b => b ? 1L : 0L,
            _ => throw new TemplateException($"range() needs integers, not {TemplateValues.TypeName(a)}"),
        }).ToList();
        var (start, stop, step) = n.Count switch
        {
            1 => (0L, n[0], 1L),
            2 => (n[0], n[1], 1L),
            3 => (n[0], n[1], n[2]),
            _ => throw new TemplateException("range() takes 1 to 3 integers"),
        };
        if (step == 0) throw new TemplateException("range() arg 3 must not be zero");
        var result = new List<object?>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (result.Count >= MaxRange) throw new TemplateException($"range() is too long (over {MaxRange:N0} items, the sandbox's limit)");
            result.Add(i);
        }
        return new PyRange(start, stop, step, result);
    }
}
