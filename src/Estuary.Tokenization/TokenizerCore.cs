// What a tokenizer family provides behind TextTokenizer: encoding, the pieces and bytes of ids, special tokens, and
// decoders. Two families: SentencePiece BPE (tokenizer.model) and byte-level BPE (tokenizer.json).
// Invariant: implementations are immutable and thread-safe; decoders hold one sequence's state each.
namespace Estuary.Tokenization;

internal abstract class TokenizerCore
{
    /// <summary>Number of ids; every valid id is in [0, Count).</summary>
    public abstract int Count { get; }

    /// <summary>Id of the unknown token, or -1 when the vocabulary has none.</summary>
    public abstract int UnkId { get; }

    /// <summary>Appends the ids of plain text as the family's own encode does it (no BOS/EOS).</summary>
    public abstract void Encode(string text, List<int> output);

    /// <summary>Appends the ids of text in which special tokens are written out (a rendered chat template).</summary>
    public abstract void EncodeWithSpecialTokens(string text, List<int> output, bool legacy);

    /// <summary>The token string of an id as the vocabulary stores it.</summary>
    public abstract string Piece(int id);

    /// <summary>The id of a token string, or null.</summary>
    public abstract int? PieceId(string piece);

    /// <summary>The bytes an id adds to the text mid-sequence, or null for ids with no text of their own.</summary>
    public abstract byte[]? TokenBytes(int id);

    /// <summary>The text an id shows on its own, for log-probability listings.</summary>
    public abstract string TokenText(int id);

    /// <summary>True for ids that carry no text of their own (BOS, EOS, unk, other special tokens).</summary>
    public abstract bool IsControl(int id);

    public abstract ITokenDecoder CreateDecoder(bool skipSpecialTokens);
}
