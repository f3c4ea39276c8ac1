// The syntax tree of a chat template: statements (text, output, if, for, set, macro, break/continue) and expressions.
// Invariant: plain data built by TemplateParser and walked by TemplateEvaluator; every node knows its source line for errors.
namespace Estuary.Tokenization.Templates;

internal abstract record Node(int Line);

internal sealed record TextNode(string Text, int Line) : Node(Line);

internal sealed record OutputNode(Expr Value, int Line) : Node(Line);

internal sealed record IfNode(List<(Expr Condition, List<Node> Body)> Branches, List<Node>? Else, int Line) : Node(Line);

internal sealed record ForNode(List<string> Targets, Expr Iterable, Expr? Filter, List<Node> Body, List<Node>? Else, int Line) : Node(Line);

/// <summary><c>set name = value</c>, or <c>set ns.attr = value</c> when <see cref="Attribute"/> is given.</summary>
internal sealed record SetNode(string Name, string? Attribute, Expr Value, int Line) : Node(Line);

/// <summary><c>macro name(a, b=default)</c>: defines a function returning its body's rendering.</summary>
internal sealed record MacroNode(string Name, List<(string Name, Expr? Default)> Parameters, List<Node> Body, int Line) : Node(Line);

/// <summary>A rendered block: <c>set name | filters</c> … <c>endset</c> assigns its text (through the filters), and
/// <c>filter name(args) | …</c> … <c>endfilter</c> writes it; <see cref="Value"/> is the filter chain over <see cref="CapturedExpr"/>.</summary>
internal sealed record CaptureNode(string? Name, string? Attribute, Expr Value, List<Node> Body, int Line) : Node(Line);

internal sealed record LoopControlNode(bool IsBreak, int Line) : Node(Line);

internal abstract record Expr(int Line);

internal sealed record LiteralExpr(object? Value, int Line) : Expr(Line);

internal sealed record NameExpr(string Name, int Line) : Expr(Line);

internal sealed record ListExpr(List<Expr> Items, int Line, bool IsTuple = false) : Expr(Line);

internal sealed record DictExpr(List<(Expr Key, Expr Value)> Items, int Line) : Expr(Line);

internal sealed record AttributeExpr(Expr Target, string Name, int Line) : Expr(Line);

internal sealed record IndexExpr(Expr Target, Expr Index, int Line) : Expr(Line);

internal sealed record SliceExpr(Expr Target, Expr? Start, Expr? Stop, Expr? Step, int Line) : Expr(Line);

internal sealed record CallExpr(Expr Callee, List<Expr> Args, List<(string Name, Expr Value)> Kwargs, int Line) : Expr(Line);

internal sealed record FilterExpr(Expr Value, string Name, List<Expr> Args, List<(string Name, Expr Value)> Kwargs, int Line) : Expr(Line);

internal sealed record TestExpr(Expr Value, string Name, List<Expr> Args, bool Negated, int Line) : Expr(Line);

internal sealed record UnaryExpr(string Op, Expr Operand, int Line) : Expr(Line);

internal sealed record BinaryExpr(string Op, Expr Left, Expr Right, int Line) : Expr(Line);

/// <summary>Python's chained comparison <c>a &lt; b == c</c>: each link evaluated only while the previous ones held.</summary>
internal sealed record CompareExpr(Expr First, List<(string Op, Expr Right)> Links, int Line) : Expr(Line);

/// <summary>The text a <see cref="CaptureNode"/> rendered.</summary>
internal sealed record CapturedExpr(int Line) : Expr(Line);

internal sealed record ConditionalExpr(Expr Condition, Expr WhenTrue, Expr? WhenFalse, int Line) : Expr(Line);
