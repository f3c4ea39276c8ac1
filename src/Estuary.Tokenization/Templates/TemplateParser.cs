// Parses the pieces of a chat template into a tree, with Jinja's statement set as Hugging Face uses it (if/elif/else, for with
// loop filter and else, set including namespace attributes, break/continue, generation blocks) and Jinja's operator precedence.
// Invariant: anything outside the subset fails here with a TemplateException naming it and its line, never at render time.
using System.Globalization;

namespace Estuary.Tokenization.Templates;

internal sealed class TemplateParser
{
    private readonly List<TemplatePiece> _pieces;
    private int _piece;
    private List<TemplateToken> _tokens = [];
    private int _at;

    private TemplateParser(List<TemplatePiece> pieces) => _pieces = pieces;

    public static List<Node> Parse(string source)
    {
        var parser = new TemplateParser(TemplateLexer.Split(source));
        var body = parser.ParseBlock(out var end);
        if (end is not null) throw new TemplateException($"line {end.Line}: '{end.Tokens[0].Text}' without its opening statement");
        TemplateNameCheck.Check(body);
        return body;
    }

    // Statements until a closing keyword of the enclosing block (endif/elif/else/endfor/endgeneration) or the end; the piece that
    // stopped the block is returned (null at the end of the template), with the token cursor after its keyword.
    private List<Node> ParseBlock(out TemplatePiece? stoppedAt)
    {
        var nodes = new List<Node>();
        while (_piece < _pieces.Count)
        {
            var piece = _pieces[_piece++];
            switch (piece.Kind)
            {
                case PieceKind.Text:
                    nodes.Add(new TextNode(piece.Text, piece.Line));
                    break;
                case PieceKind.Output:
                    Begin(piece);
                    nodes.Add(new OutputNode(ParseExpression(), piece.Line));
                    ExpectEnd();
                    break;
                default:
                    Begin(piece);
                    var keyword = Next();
                    if (keyword.Kind != TokenKind.Name) throw Error(keyword, "a statement keyword");
                    switch (keyword.Text)
                    {
                        case "if": nodes.Add(ParseIf(piece.Line)); break;
                        case "for": nodes.Add(ParseFor(piece.Line)); break;
                        case "set": nodes.Add(ParseSet(piece.Line)); break;
                        case "break" or "continue":
                            ExpectEnd();
                            nodes.Add(new LoopControlNode(keyword.Text == "break", piece.Line));
                            break;
                        case "generation":
                            // Hugging Face's marker around assistant text (for training masks): renders its body unchanged.
                            ExpectEnd();
                            nodes.AddRange(ParseBlock(out var genEnd));
                            if (genEnd is null || genEnd.Tokens[0].Text != "endgeneration") throw new TemplateException($"line {piece.Line}: 'generation' is never closed");
                            ExpectEnd();
                            break;
                        case "endif" or "elif" or "else" or "endfor" or "endgeneration":
                            stoppedAt = piece;
                            return nodes;
                        default:
                            throw new TemplateException($"line {piece.Line}: the statement '{keyword.Text}' is not supported in chat templates");
                    }
                    break;
            }
        }
        stoppedAt = null;
        return nodes;
    }

    private IfNode ParseIf(int line)
    {
        var branches = new List<(Expr, List<Node>)>();
        List<Node>? elseBody = null;
        var condition = ParseExpression();
        ExpectEnd();
        while (true)
        {
            var body = ParseBlock(out var stop);
            if (stop is null) throw new TemplateException($"line {line}: 'if' is never closed with 'endif'");
            string keyword = stop.Tokens[0].Text;
            if (elseBody is not null)
            {
                if (keyword != "endif") throw new TemplateException($"line {stop.Line}: '{keyword}' after 'else' (expected 'endif')");
                elseBody.AddRange(body);
                ExpectEnd();
                return new IfNode(branches, elseBody, line);
            }
            branches.Add((condition, body));
            switch (keyword)
            {
                case "elif":
                    condition = ParseExpression();
                    ExpectEnd();
                    break;
                case "else":
                    ExpectEnd();
                    elseBody = [];
                    break;
                case "endif":
                    ExpectEnd();
                    return new IfNode(branches, null, line);
                default:
                    throw new TemplateException($"line {stop.Line}: '{keyword}' inside 'if' (expected 'elif', 'else' or 'endif')");
            }
        }
    }

    private ForNode ParseFor(int line)
    {
        var targets = new List<string> { ExpectName() };
        while (Peek().Is(","))
        {
            Next();
            targets.Add(ExpectName());
        }
        if (!Next().IsName("in")) throw new TemplateException($"line {line}: 'for' needs 'in'");
        var iterable = ParseExpression(allowConditional: false);
        Expr? filter = null;
        if (Peek().IsName("if"))
        {
            Next();
            filter = ParseExpression(allowConditional: false);
        }
        if (Peek().IsName("recursive")) throw new TemplateException($"line {line}: recursive loops are not supported in chat templates");
        ExpectEnd();
        var body = ParseBlock(out var stop);
        List<Node>? elseBody = null;
        if (stop is not null && stop.Tokens[0].Text == "else")
        {
            ExpectEnd();
            elseBody = ParseBlock(out stop);
        }
        if (stop is null || stop.Tokens[0].Text != "endfor") throw new TemplateException($"line {line}: 'for' is never closed with 'endfor'");
        ExpectEnd();
        return new ForNode(targets, iterable, filter, body, elseBody, line);
    }

    private SetNode ParseSet(int line)
    {
        string name = ExpectName();
        string? attribute = null;
        if (Peek().Is("."))
        {
            Next();
            attribute = ExpectName();
        }
        if (!Next().Is("=")) throw new TemplateException($"line {line}: 'set' needs '=' (block assignments are not supported in chat templates)");
        var value = ParseExpression();
        ExpectEnd();
        return new SetNode(name, attribute, value, line);
    }

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
                    args.Add(ParsePostfix(ParsePrimary())); // `is divisibleby 3`, `is sameas none`
                value = new TestExpr(value, name, args, negated, line);
            }
            else return value;
        }
    }

    private static bool IsKeyword(string name) => name is "and" or "or" or "not" or "in" or "is" or "if" or "else";

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

    // ---- tokens ----

    private void Begin(TemplatePiece piece)
    {
        _tokens = piece.Tokens;
        _at = 0;
    }

    private TemplateToken Peek() => _tokens[Math.Min(_at, _tokens.Count - 1)];

    private TemplateToken PeekAt(int ahead) => _tokens[Math.Min(_at + ahead, _tokens.Count - 1)];

    private TemplateToken Next()
    {
        var t = Peek();
        if (_at < _tokens.Count - 1) _at++;
        return t;
    }

    private void Expect(string op)
    {
        var t = Next();
        if (!t.Is(op)) throw Error(t, $"'{op}'");
    }

    private string ExpectName()
    {
        var t = Next();
        return t.Kind == TokenKind.Name ? t.Text : throw Error(t, "a name");
    }

    private string ExpectDottedName()
    {
        var name = ExpectName();
        while (Peek().Is("."))
        {
            Next();
            name += "." + ExpectName();
        }
        return name;
    }

    private void ExpectEnd()
    {
        var t = Peek();
        if (t.Kind != TokenKind.End) throw Error(t, "the end of the tag");
    }

    private static TemplateException Error(TemplateToken found, string expected) =>
        new($"line {found.Line}: expected {expected}, found {found}");
}
