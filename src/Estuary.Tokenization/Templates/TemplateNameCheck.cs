// Jinja's compile-time check of filter and test names: a name Jinja does not know fails when the template loads, unless it
// sits inside an if statement or a conditional expression (Jinja's "soft" frames, which a for loop's body leaves), where it
// fails only when evaluated.
// Invariant: a template Jinja compiles is never refused here; names Jinja knows but Estuary does not run are left to the
// evaluator, which names them when a request reaches them.
namespace Estuary.Tokenization.Templates;

internal static class TemplateNameCheck
{
    public static void Check(List<Node> nodes, bool soft = false)
    {
        foreach (var node in nodes)
        {
            switch (node)
            {
                case OutputNode o: Check(o.Value, soft); break;
                case IfNode i:
                    foreach (var (condition, body) in i.Branches)
                    {
                        Check(condition, true);
                        Check(body, true);
                    }
                    if (i.Else is not null) Check(i.Else, true);
                    break;
                case ForNode f:
                    Check(f.Iterable, soft);
                    // a loop's body, filter and else are an inner frame of Jinja's compiler: not soft, even inside an if
                    if (f.Filter is not null) Check(f.Filter, false);
                    Check(f.Body, false);
                    if (f.Else is not null) Check(f.Else, false);
                    break;
                case SetNode s: Check(s.Value, soft); break;
                case CaptureNode c: // a block set or filter block is an inner frame too
                    Check(c.Value, false);
                    Check(c.Body, false);
                    break;
                case MacroNode m: // a macro is a function of its own in Jinja's compiled code: a new, hard frame
                    m.Parameters.ForEach(p => Check(p.Default, soft));
                    Check(m.Body, false);
                    break;
            }
        }
    }

    private static void Check(Expr? e, bool soft)
    {
        switch (e)
        {
            case null or LiteralExpr or NameExpr or CapturedExpr: return;
            case ListExpr l: l.Items.ForEach(x => Check(x, soft)); return;
            case DictExpr d:
                foreach (var (k, v) in d.Items)
                {
                    Check(k, soft);
                    Check(v, soft);
                }
                return;
            case AttributeExpr a: Check(a.Target, soft); return;
            case IndexExpr i: Check(i.Target, soft); Check(i.Index, soft); return;
            case SliceExpr s: Check(s.Target, soft); Check(s.Start, soft); Check(s.Stop, soft); Check(s.Step, soft); return;
            case CallExpr c:
                Check(c.Callee, soft);
                c.Args.ForEach(x => Check(x, soft));
                c.Kwargs.ForEach(x => Check(x.Value, soft));
                return;
            case FilterExpr f:
                if (!soft && !TemplateFilters.Names.Contains(f.Name) && !TemplateFilters.JinjaOnly.Contains(f.Name))
                    throw new TemplateException($"line {f.Line}: no filter named '{f.Name}'");
                Check(f.Value, soft);
                f.Args.ForEach(x => Check(x, soft));
                f.Kwargs.ForEach(x => Check(x.Value, soft));
                return;
            case TestExpr t:
                if (!soft && !TemplateTests.Names.Contains(t.Name)) throw new TemplateException($"line {t.Line}: no test named '{t.Name}'");
                Check(t.Value, soft);
                t.Args.ForEach(x => Check(x, soft));
                return;
            case UnaryExpr u: Check(u.Operand, soft); return;
            case BinaryExpr b: Check(b.Left, soft); Check(b.Right, soft); return;
            case CompareExpr c:
                Check(c.First, soft);
                c.Links.ForEach(l => Check(l.Right, soft));
                return;
            case ConditionalExpr c: Check(c.Condition, true); Check(c.WhenTrue, true); Check(c.WhenFalse, true); return;
        }
    }
}
