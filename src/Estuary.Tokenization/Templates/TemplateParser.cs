// Parses the pieces of a chat template into a tree, with Jinja's statement set as Hugging Face uses it (if/elif/else, for with
// loop filter and else, set including namespace attributes and blocks, filter blocks, macro, break/continue, generation blocks) and Jinja's operator precedence.
// Expressions are parsed in TemplateParserExpressions.cs. Invariant: anything outside the subset fails here with a
// TemplateException naming it and its line, never at render time.

namespace Estuary.Tokenization.Templates;

internal sealed partial class TemplateParser
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
                        case "macro": nodes.Add(ParseMacro(piece.Line)); break;
                        case "filter": nodes.Add(ParseFilterBlock(piece.Line)); break;
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
                        case "endif" or "elif" or "else" or "endfor" or "endgeneration" or "endmacro" or "endset" or "endfilter":
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

    private MacroNode ParseMacro(int line)
    {
        string name = ExpectName();
        Expect("(");
        var parameters = new List<(string, Expr?)>();
        while (!Peek().Is(")"))
        {
            string parameter = ExpectName();
            Expr? fallback = null;
            if (Peek().Is("="))
            {
                Next();
                fallback = ParseExpression();
            }
            else if (parameters.Any(p => p.Item2 is not null)) throw new TemplateException($"line {line}: non-default argument follows default argument in macro '{name}'");
            parameters.Add((parameter, fallback));
            if (!Peek().Is(",")) break;
            Next();
        }
        Expect(")");
        ExpectEnd();
        var body = ParseBlock(out var stop);
        if (stop is null || stop.Tokens[0].Text != "endmacro") throw new TemplateException($"line {line}: 'macro' is never closed with 'endmacro'");
        ExpectEnd();
        return new MacroNode(name, parameters, body, line);
    }

    private Node ParseSet(int line)
    {
        string name = ExpectName();
        string? attribute = null;
        if (Peek().Is("."))
        {
            Next();
            attribute = ExpectName();
        }
        if (Peek().Kind == TokenKind.End || Peek().Is("|")) return ParseCapture(name, attribute, ParseFiltersAndTests(new CapturedExpr(line)), "endset", line);
        if (!Next().Is("=")) throw new TemplateException($"line {line}: 'set' needs '=' or a block");
        var value = ParseExpression();
        ExpectEnd();
        return new SetNode(name, attribute, value, line);
    }

    // {% filter name(args) | … %}: the first filter is written without its '|'.
    private CaptureNode ParseFilterBlock(int line)
    {
        var name = ExpectDottedName();
        var (args, kwargs) = Peek().Is("(") ? ParseArguments() : ([], []);
        return ParseCapture(null, null, ParseFiltersAndTests(new FilterExpr(new CapturedExpr(line), name, args, kwargs, line)), "endfilter", line);
    }

    private CaptureNode ParseCapture(string? name, string? attribute, Expr value, string end, int line)
    {
        ExpectEnd();
        var body = ParseBlock(out var stop);
        if (stop is null || stop.Tokens[0].Text != end) throw new TemplateException($"line {line}: '{(name is null ? "filter" : "set")}' is never closed with '{end}'");
        ExpectEnd();
        return new CaptureNode(name, attribute, value, body, line);
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
