// One frame of a parse stack: the position (in Grammar.Elements) of the next element to match, over the frames below it.
// Frames are hash-consed by the automaton, so two stacks are equal exactly when their top frames are the same object.
namespace Estuary.Engine.Structured;

internal sealed class GrammarFrame(int position, GrammarFrame? parent, int id)
{
    public int Position { get; } = position;
    public GrammarFrame? Parent { get; } = parent;
    /// <summary>Unique among the automaton's live frames; orders stacks inside a state.</summary>
    public int Id { get; } = id;
    public int Depth { get; } = parent is null ? 1 : parent.Depth + 1;
}
