// One sequence's decoding state, fed id by id. Invariant: feeding ids one by one and then Finish() appends exactly the
// text a whole-sequence decode of those ids produces, and never appends part of a code point.
using System.Text;

namespace Estuary.Tokenization;

internal interface ITokenDecoder
{
    /// <summary>Appends whatever text <paramref name="id"/> makes decidable.</summary>
    /// <exception cref="ArgumentOutOfRangeException">the id is outside the vocabulary.</exception>
    void Add(int id, StringBuilder output);

    /// <summary>Ends the sequence: bytes still waiting for the rest of their character are replaced.</summary>
    void Finish(StringBuilder output);
}
