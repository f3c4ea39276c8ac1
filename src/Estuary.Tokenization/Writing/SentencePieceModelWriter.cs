// Writes a SentencePiece ModelProto (tokenizer.model) for a BPE vocabulary with byte fallback and the identity normalizer.
// Invariant: only a vocabulary that TextTokenizer/sentencepiece would accept is written (one UNKNOWN, unique pieces, all 256 bytes);
// the file appears under its final name only when complete (temp file + rename).
namespace Estuary.Tokenization.Writing;

/// <summary>Serializes a vocabulary as a SentencePiece BPE <c>tokenizer.model</c>.</summary>
public static class SentencePieceModelWriter
{
    // Field numbers of sentencepiece_model.proto.
    private const int ModelPieces = 1, ModelTrainerSpec = 2, ModelNormalizerSpec = 3;
    private const int PieceText = 1, PieceScore = 2, PieceType = 3;
    private const int TrainerModelType = 3, TrainerVocabSize = 4, TrainerByteFallback = 35;
    private const int TrainerUnkId = 40, TrainerBosId = 41, TrainerEosId = 42, TrainerPadId = 43;
    private const int TrainerUnkPiece = 45, TrainerBosPiece = 46, TrainerEosPiece = 47, TrainerPadPiece = 48;
    private const int NormalizerName = 1, NormalizerAddDummyPrefix = 3, NormalizerRemoveExtraWhitespaces = 4, NormalizerEscapeWhitespaces = 5;
    private const int ModelTypeBpe = 2;

    /// <summary>
    /// The <c>ModelProto</c> bytes for <paramref name="pieces"/> (ids are list positions): trainer_spec with model_type BPE,
    /// vocab_size, byte_fallback (true exactly when all 256 <c>&lt;0xNN&gt;</c> BYTE pieces are present), the unk/bos/eos/pad ids
    /// and pieces (<c>&lt;unk&gt;</c> is the UNKNOWN piece, bos/eos are the CONTROL pieces <c>&lt;s&gt;</c>/<c>&lt;/s&gt;</c>, -1 when absent,
    /// pad is <c>&lt;pad&gt;</c> or -1); normalizer_spec "identity" with add_dummy_prefix, escape_whitespaces and no
    /// removal of extra whitespace.
    /// </summary>
    /// <exception cref="ArgumentException">the vocabulary is empty, repeats a piece, has no or several UNKNOWN pieces,
    /// or has some but not all byte pieces (or a malformed one).</exception>
    public static byte[] Serialize(IReadOnlyList<SentencePieceEntry> pieces)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        if (pieces.Count == 0) throw new ArgumentException("the vocabulary has no pieces", nameof(pieces));

        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        int unkId = -1, byteCount = 0;
        for (int i = 0; i < pieces.Count; i++)
        {
            var p = pieces[i] ?? throw new ArgumentException($"piece {i} is null", nameof(pieces));
            if (!ids.TryAdd(p.Piece, i)) throw new ArgumentException($"piece '{p.Piece}' appears twice (ids {ids[p.Piece]} and {i})", nameof(pieces));
            if (p.Kind == SentencePieceKind.Unknown)
            {
                if (unkId >= 0) throw new ArgumentException($"more than one UNKNOWN piece (ids {unkId} and {i})", nameof(pieces));
                unkId = i;
            }
            else if (p.Kind == SentencePieceKind.Byte)
            {
                if (!IsBytePiece(p.Piece)) throw new ArgumentException($"BYTE piece '{p.Piece}' is not of the form <0xNN>", nameof(pieces));
                byteCount++;
            }
        }
        if (unkId < 0) throw new ArgumentException("the vocabulary has no UNKNOWN piece", nameof(pieces));
        if (byteCount is not (0 or 256))
            throw new ArgumentException($"the vocabulary has {byteCount} BYTE pieces; byte fallback needs all 256", nameof(pieces));

        int ControlId(string piece) => ids.TryGetValue(piece, out int id) && pieces[id].Kind == SentencePieceKind.Control ? id : -1;

        var model = new ProtoWriter();
        foreach (var p in pieces)
        {
            var piece = new ProtoWriter();
            piece.WriteString(PieceText, p.Piece);
            piece.WriteFloat(PieceScore, p.Score);
            piece.WriteInt32(PieceType, (int)p.Kind);
            model.WriteMessage(ModelPieces, piece);
        }

        var trainer = new ProtoWriter();
        trainer.WriteInt32(TrainerModelType, ModelTypeBpe);
        trainer.WriteInt32(TrainerVocabSize, pieces.Count);
        trainer.WriteBool(TrainerByteFallback, byteCount == 256);
        trainer.WriteInt32(TrainerUnkId, unkId);
        trainer.WriteInt32(TrainerBosId, ControlId("<s>"));
        trainer.WriteInt32(TrainerEosId, ControlId("</s>"));
        trainer.WriteInt32(TrainerPadId, ControlId("<pad>"));
        trainer.WriteString(TrainerUnkPiece, pieces[unkId].Piece);
        trainer.WriteString(TrainerBosPiece, "<s>");
        trainer.WriteString(TrainerEosPiece, "</s>");
        trainer.WriteString(TrainerPadPiece, "<pad>");
        model.WriteMessage(ModelTrainerSpec, trainer);

        var normalizer = new ProtoWriter();
        normalizer.WriteString(NormalizerName, "identity");
        normalizer.WriteBool(NormalizerAddDummyPrefix, true);
        normalizer.WriteBool(NormalizerRemoveExtraWhitespaces, false);
        normalizer.WriteBool(NormalizerEscapeWhitespaces, true);
        model.WriteMessage(ModelNormalizerSpec, normalizer);

        return model.ToArray();
    }

    /// <summary>
    /// Writes <see cref="Serialize"/>'s bytes to <paramref name="path"/> (normally <c>tokenizer.model</c>), replacing an existing file;
    /// on failure nothing is left at <paramref name="path"/> or beside it.
    /// </summary>
    /// <exception cref="ArgumentException">the vocabulary is invalid (see <see cref="Serialize"/>).</exception>
    public static void Write(string path, IReadOnlyList<SentencePieceEntry> pieces)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.Write(path, Serialize(pieces));
    }

    private static bool IsBytePiece(string piece) =>
        piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
        && Uri.IsHexDigit(piece[3]) && Uri.IsHexDigit(piece[4]) && !char.IsLower(piece[3]) && !char.IsLower(piece[4]);
}
