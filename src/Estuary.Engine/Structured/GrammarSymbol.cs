// One element of a grammar alternative: a rule reference (Value ≥ 0, the rule's id) or a byte-set terminal (Value < 0,
// terminal index ~Value).
namespace Estuary.Engine.Structured;

internal readonly record struct GrammarSymbol(int Value)
{
    public bool IsTerminal => Value < 0;

    public static GrammarSymbol Rule(int id) => new(id);

    public static GrammarSymbol Terminal(int index) => new(~index);
}
