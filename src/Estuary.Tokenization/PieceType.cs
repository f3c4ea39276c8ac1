// SentencePiece piece types, numbered as in sentencepiece_model.proto (ModelProto.SentencePiece.Type).
// The numeric values are the wire values; never renumber them.
namespace Estuary.Tokenization;

internal enum PieceType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}
