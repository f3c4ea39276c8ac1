// Renders a parsed chat template: Jinja's scoping (a for-loop body is its own scope, each iteration afresh; only namespaces
// carry values out), the loop object, Python operator semantics, and the filters, tests and methods chat templates use.
// Invariant: anything unsupported or ill-typed raises a TemplateException naming it and its line; output is only appended.
using System.Globalization;
using System.Text;

namespace Estuary.Tokenization.Templates;

internal sealed class TemplateEvaluator
{
    private enum Flow { Normal, Break, Continue }

    /// <summary>Statements one rendering may run, and characters it may write: a template looping without end fails instead.</summary>
    internal const int MaxSteps = 2_000_000, MaxOutputChars = 64 << 20;

    private int _steps;

    private List<Dictionary<string, object?>> _scopes;
    private StringBuilder _output = new();
    private int _macroDepth;
    private string _captured = ""; // what the innermost set or filter block rendered

    /// <summary>Macro calls one rendering may nest (a macro calling itself without end fails instead).</summary>
    internal const int MaxMacroDepth = 200;

    private TemplateEvaluator(Dictionary<string, object?> globals) => _scopes = [globals];

    /// <summary>Renders with <paramref name="variables"/> and the globals of transformers' environment: range, namespace,
    /// raise_exception and strftime_now (reading <paramref name="clock"/>); a variable named as one of the last two replaces it.</summary>
    public static string Render(List<Node> template, Dictionary<string, object?> variables, TimeProvider clock)
    {
        var globals = new Dictionary<string, object?>();
        TemplateGlobals.AddTo(globals);
        foreach (var kv in variables) globals[kv.Key] = kv.Value;
        if (!globals.ContainsKey("raise_exception"))
            globals["raise_exception"] = new TemplateFunction("raise_exception", (args, _) =>
                throw new TemplateException(args.Count > 0 ? TemplateValues.ToText(args[0]) : "the chat template raised an error"));
        if (!globals.ContainsKey("strftime_now")) globals["strftime_now"] = TemplateStrftime.Function(clock);
        var evaluator = new TemplateEvaluator(globals);
        if (evaluator.Execute(template) != Flow.Normal) throw new TemplateException("'break' or 'continue' outside a loop");
        return evaluator._output.ToString();
    }

    private Flow Execute(List<Node> nodes)
    {
        foreach (var node in nodes)
        {
            var flow = Execute(node);
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    private Flow Execute(Node node)
    {
        if (++_steps > MaxSteps || _output.Length > MaxOutputChars)
            throw new TemplateException($"line {node.Line}: the chat template ran too long (over {MaxSteps:N0} statements or {MaxOutputChars >> 20} M characters)");
        switch (node)
        {
            case TextNode t:
                _output.Append(t.Text);
                return Flow.Normal;
            case OutputNode o:
                _output.Append(TemplateValues.ToText(Evaluate(o.Value)));
                return Flow.Normal;
            case IfNode i:
                foreach (var (condition, body) in i.Branches)
                    if (TemplateValues.IsTrue(Evaluate(condition))) return Execute(body);
                return i.Else is null ? Flow.Normal : Execute(i.Else);
            case SetNode s:
                var value = Evaluate(s.Value);
                if (s.Attribute is null) _scopes[^1][s.Name] = value;
                else if (Lookup(s.Name) is Namespace ns) ns[s.Attribute] = value;
                else throw new TemplateException($"line {s.Line}: 'set {s.Name}.{s.Attribute}' needs {s.Name} to be a namespace()");
                return Flow.Normal;
            case ForNode f:
                return RunLoop(f);
            case CaptureNode c:
                return Capture(c);
            case MacroNode m:
                _scopes[^1][m.Name] = new TemplateFunction(m.Name, (args, kwargs) => CallMacro(m, args, kwargs));
                return Flow.Normal;
            case LoopControlNode c:
                return c.IsBreak ? Flow.Break : Flow.Continue;
            default:
                throw new TemplateException($"line {node.Line}: cannot run {node.GetType().Name}");
        }
    }

    // {% set x %}…{% endset %} and {% filter … %}…{% endfilter %}: the body renders on its own, in a scope of its own (as
    // Jinja's inner frame), then goes through the filters; a break or continue in it leaves the loop and drops the text.
    private Flow Capture(CaptureNode c)
    {
        var saved = _output;
        _output = new StringBuilder();
        _scopes.Add([]);
        Flow flow;
        try
        {
            flow = Execute(c.Body);
        }
        finally
        {
            (_captured, _output) = (_output.ToString(), saved);
            _scopes.RemoveAt(_scopes.Count - 1);
        }
        if (flow != Flow.Normal) return flow;
        var value = Evaluate(c.Value);
        if (c.Name is null) _output.Append(TemplateValues.ToText(value));
        else Execute(new SetNode(c.Name, c.Attribute, new LiteralExpr(value, c.Line), c.Line));
        return flow;
    }

    // A macro's body sees the template's globals and top-level names as they are at the call (not the caller's loop
    // variables) and its own arguments; missing ones are undefined, extra ones are varargs and kwargs, as in Jinja.
    private string CallMacro(MacroNode m, List<object?> args, Dictionary<string, object?> kwargs)
    {
        if (_macroDepth >= MaxMacroDepth) throw new TemplateException($"line {m.Line}: macro '{m.Name}' nests deeper than {MaxMacroDepth} calls");
        var (savedScopes, savedOutput) = (_scopes, _output);
        var scope = new Dictionary<string, object?>();
        _scopes = [savedScopes[0], scope];
        _output = new StringBuilder();
        _macroDepth++;
        try
        {
            var extra = new Dictionary<string, object?>(kwargs);
            for (int i = 0; i < m.Parameters.Count; i++)
            {
                var (name, fallback) = m.Parameters[i];
                if (i < args.Count && extra.ContainsKey(name)) throw new TemplateException($"line {m.Line}: macro '{m.Name}' got multiple values for argument '{name}'");
                scope[name] = i < args.Count ? args[i] : extra.Remove(name, out var v) ? v : fallback is null ? Undefined.Instance : Evaluate(fallback);
            }
            scope["varargs"] = new PyTuple([.. args.Skip(m.Parameters.Count)]);
            scope["kwargs"] = extra;
            if (Execute(m.Body) != Flow.Normal) throw new TemplateException($"line {m.Line}: 'break' or 'continue' outside a loop in macro '{m.Name}'");
            return _output.ToString();
        }
        finally
        {
            (_scopes, _output) = (savedScopes, savedOutput);
            _macroDepth--;
        }
    }

    // The loop's else block runs in the enclosing scope, so a break or continue there belongs to the enclosing loop.
    private Flow RunLoop(ForNode f)
    {
        var items = Iterate(Evaluate(f.Iterable), f.Line);
        if (f.Filter is not null)
        {
            var kept = new List<object?>();
            foreach (var item in items)
            {
                _scopes.Add([]);
                Bind(f, item);
                if (TemplateValues.IsTrue(Evaluate(f.Filter))) kept.Add(item);
                _scopes.RemoveAt(_scopes.Count - 1);
            }
            items = kept;
        }
        bool completed = false; // Jinja runs the else block unless an iteration reached the end of the body (no break or continue)
        List<object?>? lastChanged = null; // loop.changed(...)'s previous arguments
        for (int i = 0; i < items.Count; i++)
        {
            int index = i;
            var scope = new Dictionary<string, object?>
            {
                ["loop"] = new Dictionary<string, object?>
                {
                    ["index"] = (long)(i + 1),
                    ["index0"] = (long)i,
                    ["revindex"] = (long)(items.Count - i),
                    ["revindex0"] = (long)(items.Count - i - 1),
                    ["first"] = i == 0,
                    ["last"] = i == items.Count - 1,
                    ["length"] = (long)items.Count,
                    ["previtem"] = i > 0 ? items[i - 1] : Undefined.Instance,
                    ["nextitem"] = i + 1 < items.Count ? items[i + 1] : Undefined.Instance,
                    ["depth"] = 1L,
                    ["depth0"] = 0L,
                    ["cycle"] = new TemplateFunction("loop.cycle", (args, _) =>
                        args.Count > 0 ? args[index % args.Count] : throw new TemplateException($"line {f.Line}: no items for loop.cycle")),
                    ["changed"] = new TemplateFunction("loop.changed", (args, _) =>
                    {
                        if (lastChanged is not null && TemplateValues.AreEqual(lastChanged, args)) return false;
                        lastChanged = args;
                        return true;
                    }),
                },
            };
            _scopes.Add(scope);
            Bind(f, items[i]);
            var flow = Execute(f.Body);
            _scopes.RemoveAt(_scopes.Count - 1);
            if (flow == Flow.Break) break;
            completed |= flow == Flow.Normal;
        }
        return !completed && f.Else is not null ? Execute(f.Else) : Flow.Normal;
    }

    private void Bind(ForNode f, object? item)
    {
        if (f.Targets.Count == 1)
        {
            _scopes[^1][f.Targets[0]] = item;
            return;
        }
        var parts = item is string text ? TemplateValues.CodePoints(text) : item as List<object?>;
        if (parts is null || parts.Count != f.Targets.Count)
            throw new TemplateException($"line {f.Line}: cannot unpack {TemplateValues.TypeName(item)} into {f.Targets.Count} names");
        for (int i = 0; i < parts.Count; i++) _scopes[^1][f.Targets[i]] = parts[i];
    }

    private static List<object?> Iterate(object? value, int line) => value switch
    {
        List<object?> list => [.. list],
        Namespace => throw new TemplateException($"line {line}: cannot loop over a namespace"),
        Dictionary<string, object?> dict => [.. dict.Keys],
        string s => TemplateValues.CodePoints(s),
        Undefined => [],
        _ => throw new TemplateException($"line {line}: cannot loop over {TemplateValues.TypeName(value)}"),
    };

    private object? Lookup(string name)
    {
        for (int i = _scopes.Count - 1; i >= 0; i--)
            if (_scopes[i].TryGetValue(name, out var v)) return v;
        return Undefined.Instance;
    }

    private object? Evaluate(Expr e)
    {
        switch (e)
        {
            case LiteralExpr l: return l.Value;
            case CapturedExpr: return _captured;
            case NameExpr n: return Lookup(n.Name);
            case ListExpr l: return l.IsTuple ? new PyTuple([.. l.Items.Select(Evaluate)]) : l.Items.Select(Evaluate).ToList();
            case DictExpr d:
                var dict = new Dictionary<string, object?>();
                foreach (var (k, v) in d.Items) dict[Evaluate(k) as string ?? throw new TemplateException($"line {d.Line}: dictionary keys must be strings")] = Evaluate(v);
                return dict;
            case AttributeExpr a: return GetAttribute(Evaluate(a.Target), a.Name, a.Line);
            case IndexExpr i: return GetItem(Evaluate(i.Target), Evaluate(i.Index), i.Line);
            case SliceExpr s: return Slice(Evaluate(s.Target), s);
            case CallExpr c: return Call(c);
            case FilterExpr f: return TemplateFilters.Apply(f.Name, Evaluate(f.Value), f.Args.Select(Evaluate).ToList(), Kwargs(f.Kwargs), f.Line);
            case TestExpr t: return TemplateTests.Test(t.Name, Evaluate(t.Value), t.Args.Select(Evaluate).ToList(), t.Line) != t.Negated;
            case UnaryExpr u:
                var operand = Evaluate(u.Operand);
                return u.Op switch
                {
                    "not" => !TemplateValues.IsTrue(operand),
                    "-" => operand switch
                    {
                        long l => (object)(-l), // object arms: a long stays a long (Python's int)
                        double d => -d,
                        bool b => b ? -1L : 0L,
                        _ => throw new TemplateException($"line {u.Line}: cannot negate {TemplateValues.TypeName(operand)}"),
                    },
                    _ => TemplateValues.IsNumber(operand) ? operand : throw new TemplateException($"line {u.Line}: unary + of {TemplateValues.TypeName(operand)}"),
                };
            case BinaryExpr b: return Binary(b);
            case CompareExpr c:
                var left = Evaluate(c.First);
                foreach (var (op, rightExpr) in c.Links)
                {
                    var right = Evaluate(rightExpr);
                    if (!TemplateArithmetic.Compare(op, left, right, c.Line)) return false;
                    left = right;
                }
                return true;
            case ConditionalExpr c:
                return TemplateValues.IsTrue(Evaluate(c.Condition)) ? Evaluate(c.WhenTrue) : c.WhenFalse is null ? Undefined.Instance : Evaluate(c.WhenFalse);
            default: throw new TemplateException($"line {e.Line}: cannot evaluate {e.GetType().Name}");
        }
    }

    private Dictionary<string, object?> Kwargs(List<(string Name, Expr Value)> kwargs)
    {
        var result = new Dictionary<string, object?>();
        foreach (var (name, value) in kwargs) result[name] = Evaluate(value);
        return result;
    }

    private object? Binary(BinaryExpr b)
    {
        if (b.Op == "and")
        {
            var left = Evaluate(b.Left);
            return TemplateValues.IsTrue(left) ? Evaluate(b.Right) : left;
        }
        if (b.Op == "or")
        {
            var left = Evaluate(b.Left);
            return TemplateValues.IsTrue(left) ? left : Evaluate(b.Right);
        }
        return TemplateArithmetic.Apply(b.Op, Evaluate(b.Left), Evaluate(b.Right), b.Line);
    }


    // Jinja's sandboxed getattr (x.name): the value's Python attribute first (a dict's methods before its keys), then the key;
    // a method the immutable sandbox forbids (append, update, pop …) and names starting with '_' read as undefined.
    public static object? GetAttribute(object? target, string name, int line)
    {
        if (target is Undefined) throw new TemplateException($"line {line}: '{name}' of an undefined value");
        if (name.StartsWith('_')) return Undefined.Instance;
        switch (target)
        {
            case Namespace ns:
                return ns.TryGetValue(name, out var nv) ? nv : Undefined.Instance;
            case Dictionary<string, object?> dict:
                if (TemplateMethods.IsDictMethod(name)) return new BoundMethod(dict, name);
                if (TemplateMethods.IsUnsafeMethod(target, name)) return Undefined.Instance;
                return dict.TryGetValue(name, out var v) ? v : Undefined.Instance;
            case GroupTuple group when name is "grouper" or "list":
                return name == "grouper" ? group.Grouper : group.Values;
            case Cycler cycler:
                return cycler.Attribute(name);
            case string or List<object?>:
                return TemplateMethods.Has(target, name) ? new BoundMethod(target, name) : Undefined.Instance;
            default:
                return Undefined.Instance;
        }
    }

    // Jinja's sandboxed getitem (x[key]): the item first, then for a string key the attribute of that name.
    public static object? GetItem(object? target, object? index, int line)
    {
        if (index is bool flag) index = flag ? 1L : 0L;
        switch (target)
        {
            case Undefined:
                throw new TemplateException($"line {line}: subscript of an undefined value");
            case Dictionary<string, object?> dict when index is string key && dict.TryGetValue(key, out var v):
                return v;
            case List<object?> list when index is long i:
                if (i < 0) i += list.Count;
                return i >= 0 && i < list.Count ? list[(int)i] : Undefined.Instance;
            case string s when index is long i:
                return TemplateText.At(s, i) ?? (object)Undefined.Instance;
        }
        return index is string name && target is not Namespace ? GetAttribute(target, name, line) : Undefined.Instance;
    }

    private object? Slice(object? target, SliceExpr s)
    {
        long? Bound(Expr? e) => e is null ? null : Evaluate(e) switch
        {
            long l => l,
            bool b => b ? 1 : 0,
            null => null,
            var other => throw new TemplateException($"line {s.Line}: slice bounds must be integers, not {TemplateValues.TypeName(other)}"),
        };
        long? start = Bound(s.Start), stop = Bound(s.Stop), step = Bound(s.Step);
        int count = target switch
        {
            List<object?> l => l.Count,
            string str => TemplateText.Length(str),
            // Jinja compiles a slice to Python's own subscript (not the sandbox's getitem): anything else fails
            _ => throw new TemplateException($"line {s.Line}: {TemplateValues.TypeName(target)} cannot be sliced"),
        };
        var indices = SliceIndices(count, start, stop, step ?? 1, s.Line);
        if (target is PyRange range) // a slice of a range is a range: range(5)[::-1] is range(4, -1, -1)
        {
            var (a, b) = SliceBounds(count, start, stop, step ?? 1);
            long st = step ?? 1;
            return new PyRange(range.Start + a * range.Step, range.Start + b * range.Step, range.Step * st, indices.Select(i => range[i]));
        }
        if (target is string text) return TemplateText.Pick(text, indices);
        var picked = indices.Select(i => ((List<object?>)target!)[i]).ToList();
        return target is PyTuple ? new PyTuple([.. picked]) : picked;
    }

    // Python's slice.indices' start and stop.
    private static (long Start, long Stop) SliceBounds(int count, long? start, long? stop, long step)
    {
        long Clamp(long? v, long dflt, long lo, long hi)
        {
            if (v is not { } x) return dflt;
            if (x < 0) x += count;
            return Math.Clamp(x, lo, hi);
        }
        return step > 0 ? (Clamp(start, 0, 0, count), Clamp(stop, count, 0, count))
            : (Clamp(start, count - 1, -1, count - 1), stop is null ? -1 : Clamp(stop, -1, -1, count - 1));
    }

    // Python's slice.indices.
    private static List<int> SliceIndices(int count, long? start, long? stop, long step, int line)
    {
        if (step == 0) throw new TemplateException($"line {line}: slice step cannot be zero");
        long Clamp(long? v, long dflt, long lo, long hi)
        {
            if (v is not { } x) return dflt;
            if (x < 0) x += count;
            return Math.Clamp(x, lo, hi);
        }
        var result = new List<int>();
        if (step > 0)
        {
            long a = Clamp(start, 0, 0, count), b = Clamp(stop, count, 0, count);
            for (long i = a; i < b; i += step) result.Add((int)i);
        }
        else
        {
            long a = Clamp(start, count - 1, -1, count - 1), b = Clamp(stop, -1, -1, count - 1);
            if (stop is null) b = -1;
            for (long i = a; i > b; i += step) result.Add((int)i);
        }
        return result;
    }

    private object? Call(CallExpr c)
    {
        var callee = Evaluate(c.Callee);
        var args = c.Args.Select(Evaluate).ToList();
        var kwargs = Kwargs(c.Kwargs);
        return callee switch
        {
            TemplateFunction f => f.Invoke(args, kwargs),
            BoundMethod m => TemplateMethods.Invoke(m, args, kwargs, c.Line),
            Undefined => throw new TemplateException($"line {c.Line}: call of an undefined function{(c.Callee is NameExpr n ? $" '{n.Name}'" : "")}"),
            _ => throw new TemplateException($"line {c.Line}: {TemplateValues.TypeName(callee)} is not callable"),
        };
    }
}
