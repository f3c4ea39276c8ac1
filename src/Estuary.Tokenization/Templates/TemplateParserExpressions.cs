// The expression half of TemplateParser: Jinja's precedence from conditional expressions down to literals (or, and, not,
// chained comparisons, + -, ~, * / // %, **, unary signs, filters and tests, attribute/index/slice/call postfixes).
// Invariant: each method consumes exactly its expression and leaves the cursor on the next token.
using System.Globalization;

namespace Estuary.Tokenization.Templates;

internal sealed partial class TemplateParser
{
    // ---- expressions, lowest precedence first (as Jinja's parser) ----

    private Expr ParseExpression(bool allowConditional = true)
    {
        var value = ParseOr();
        if (!allowConditional || !Peek().IsName("if")) return value;
        int line = Next().Line;
        var condition = ParseOr();
        Expr? otherwise = null;
        if (Peek().IsName("else"))
        {
            Next();
            otherwise = ParseExpression();
        }
        return new ConditionalExpr(condition, value, otherwise, line);
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (Peek().IsName("or"))
        {
            int line = Next().Line;
            left = new BinaryExpr("or", left, ParseAnd(), line);
        }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (Peek().IsName("and"))
        {
            int line = Next().Line;
            left = new BinaryExpr("and", left, ParseNot(), line);
        }
        return left;
    }

    private Expr ParseNot()
    {
        if (!Peek().IsName("not")) return ParseCompare();
        int line = Next().Line;
        return new UnaryExpr("not", ParseNot(), line);
    }

    private Expr ParseCompare()
    {
        var first = ParseAdditive();
        var links = new List<(string, Expr)>();
        while (true)
        {
            var t = Peek();
            string op;
            if (t.Kind == TokenKind.Operator && t.Text is "==" or "!=" or "<" or ">" or "<=" or ">=") op = t.Text;
            else if (t.IsName("in")) op = "in";
            else if (t.IsName("not") && PeekAt(1).IsName("in"))
            {
                Next();
                op = "not in";
            }
            else return links.Count == 0 ? first : new CompareExpr(first, links, first.Line);
            Next();
            links.Add((op, ParseAdditive()));
        }
    }

    private Expr ParseAdditive()
    {
        var left = ParseConcat();
        while (Peek().Is("+") || Peek().Is("-"))
        {
            var op = Next();
            left = new BinaryExpr(op.Text, left, ParseConcat(), op.Line);
        }
        return left;
    }

    private Expr ParseConcat()
    {
        var left = ParseMultiplicative();
        while (Peek().Is("~"))
        {
            var op = Next();
            left = new BinaryExpr("~", left, ParseMultiplicative(), op.Line);
        }
        return left;
    }

    private Expr ParseMultiplicative()
    {
        var left = ParsePower();
        while (Peek().Kind == TokenKind.Operator && Peek().Text is "*" or "/" or "//" or "%")
        {
            var op = Next();
            left = new BinaryExpr(op.Text, left, ParsePower(), op.Line);
        }
        return left;
    }

    private Expr ParsePower()
    {
        var left = ParseUnary(withFilters: true);
        while (Peek().Is("**"))
        {
            var op = Next();
            left = new BinaryExpr("**", left, ParseUnary(withFilters: true), op.Line);
        }
        return left;
    }

    private Expr ParseUnary(bool withFilters)
    {
        Expr value;
        if (Peek().Is("-") || Peek().Is("+"))
        {
            var op = Next();
            value = new UnaryExpr(op.Text, ParseUnary(withFilters: false), op.Line);
        }
        else value = ParsePostfix(ParsePrimary());
        return withFilters ? ParseFiltersAndTests(value) : value;
    }

    private Expr ParseFiltersAndTests(Expr value)
    {
        while (true)
        {
            if (Peek().Is("|"))
            {
                int line = Next().Line;
                var name = ExpectDottedName();
                var (args, kwargs) = Peek().Is("(") ? ParseArguments() : ([], []);
                value = new FilterExpr(value, name, args, kwargs, line);
            }
            else if (Peek().IsName("is"))
            {
                int line = Next().Line;
                bool negated = false;
                if (Peek().IsName("not"))
                {
                    Next();
                    negated = true;
                }
                var name = ExpectName();
                var args = new List<Expr>();
                if (Peek().Is("(")) args = ParseArguments().Args;
                else if (Peek().Kind is TokenKind.String or TokenKind.Integer or TokenKind.Float || Peek().Is("[") || Peek().Is("{")
                    || Peek().Kind == TokenKind.Name && !IsKeyword(Peek().Text))
                {
                    // `is divisibleby 3`, `is sameas none`; as in Jinja any other name is an argument (`x is none in y` reads `in`)
                    if (Peek().IsName("is")) throw new TemplateException($"line {Peek().Line}: you cannot chain multiple tests with 'is'");
                    args.Add(ParsePostfix(ParsePrimary()));
                }
                value = new TestExpr(value, name, args, negated, line);
            }
            else return value;
        }
    }

    // The names Jinja's parser does not take as a test's bare argument.
    private static bool IsKeyword(string name) => name is "and" or "or" or "else";

    private Expr ParsePostfix(Expr value)
    {
        while (true)
        {
            var t = Peek();
            if (t.Is("."))
            {
                Next();
                var name = Next();
                value = name.Kind switch
                {
                    TokenKind.Name => new AttributeExpr(value, name.Text, t.Line),
                    TokenKind.Integer => new IndexExpr(value, new LiteralExpr(long.Parse(name.Text, CultureInfo.InvariantCulture), t.Line), t.Line),
                    _ => throw Error(name, "an attribute name"),
                };
            }
            else if (t.Is("["))
            {
                Next();
                value = ParseSubscript(value, t.Line);
            }
            else if (t.Is("("))
            {
                var (args, kwargs) = ParseArguments();
                value = new CallExpr(value, args, kwargs, t.Line);
            }
            else return value;
        }
    }

    private Expr ParseSubscript(Expr target, int line)
    {
        Expr? start = null, stop = null, step = null;
        if (!Peek().Is(":")) start = ParseExpression();
        if (!Peek().Is(":"))
        {
            Expect("]");
            return new IndexExpr(target, start ?? throw new TemplateException($"line {line}: empty subscript"), line);
        }
        Next();
        if (!Peek().Is(":") && !Peek().Is("]")) stop = ParseExpression();
        if (Peek().Is(":"))
        {
            Next();
            if (!Peek().Is("]")) step = ParseExpression();
        }
        Expect("]");
        return new SliceExpr(target, start, stop, step, line);
    }

    private (List<Expr> Args, List<(string, Expr)> Kwargs) ParseArguments()
    {
        Expect("(");
        var args = new List<Expr>();
        var kwargs = new List<(string, Expr)>();
        while (!Peek().Is(")"))
        {
            if (Peek().Kind == TokenKind.Name && PeekAt(1).Is("="))
            {
                var name = Next().Text;
                Next();
                kwargs.Add((name, ParseExpression()));
            }
            else
            {
                if (kwargs.Count > 0) throw Error(Peek(), "a keyword argument (positional ones come first)");
                args.Add(ParseExpression());
            }
            if (!Peek().Is(",")) break;
            Next();
        }
        Expect(")");
        return (args, kwargs);
    }

    private Expr ParsePrimary()
    {
        var t = Next();
        switch (t.Kind)
        {
            case TokenKind.Name:
                return t.Text switch
                {
                    "true" or "True" => new LiteralExpr(true, t.Line),
                    "false" or "False" => new LiteralExpr(false, t.Line),
                    "none" or "None" => new LiteralExpr(null, t.Line),
                    _ => new NameExpr(t.Text, t.Line),
                };
            case TokenKind.String:
                var text = t.Text;
                while (Peek().Kind == TokenKind.String) text += Next().Text; // adjacent literals join, as in Python
                return new LiteralExpr(text, t.Line);
            case TokenKind.Integer:
                return new LiteralExpr(long.Parse(t.Text, CultureInfo.InvariantCulture), t.Line);
            case TokenKind.Float:
                return new LiteralExpr(double.Parse(t.Text, CultureInfo.InvariantCulture), t.Line);
        }
        if (t.Is("("))
        {
            if (Peek().Is(")"))
            {
                Next();
                return new ListExpr([], t.Line, IsTuple: true); // ()
            }
            var inner = ParseExpression();
            if (Peek().Is(","))
            {
                var items = new List<Expr> { inner };
                while (Peek().Is(","))
                {
                    Next();
                    if (Peek().Is(")")) break;
                    items.Add(ParseExpression());
                }
                inner = new ListExpr(items, t.Line, IsTuple: true); // a tuple: a list that prints as a tuple
            }
            Expect(")");
            return inner;
        }
        if (t.Is("["))
        {
            var items = new List<Expr>();
            while (!Peek().Is("]"))
            {
                items.Add(ParseExpression());
                if (!Peek().Is(",")) break;
                Next();
            }
            Expect("]");
            return new ListExpr(items, t.Line);
        }
        if (t.Is("{"))
        {
            var items = new List<(Expr, Expr)>();
            while (!Peek().Is("}"))
            {
                var key = ParseExpression();
                Expect(":");
                items.Add((key, ParseExpression()));
                if (!Peek().Is(",")) break;
                Next();
            }
            Expect("}");
            return new DictExpr(items, t.Line);
        }
        throw Error(t, "a value");
    }
}
