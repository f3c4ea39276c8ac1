// One piece of a SentencePiece model to be written: text, score and type.
// Invariant: the text is non-empty (checked on construction).
namespace Estuary.Tokenization.Writing;

/// <summary>A piece of a SentencePiece vocabulary, as stored in <c>ModelProto.pieces</c>.</summary>
public sealed record SentencePieceEntry
{
    /// <summary>Creates a piece; <paramref name="piece"/> uses '▁' (U+2581) for a space, as SentencePiece stores it.</summary>
    /// <exception cref="ArgumentException">the piece text is null or empty.</exception>
    public SentencePieceEntry(string piece, float score, SentencePieceKind kind)
    {
        ArgumentException.ThrowIfNullOrEmpty(piece);
        Piece = piece;
        Score = score;
        Kind = kind;
    }

    /// <summary>The piece text.</summary>
    public string Piece { get; }

    /// <summary>The score; BPE merges the adjacent pair whose concatenation has the highest score first.</summary>
    public float Score { get; }

    /// <summary>The piece type.</summary>
    public SentencePieceKind Kind { get; }
}
