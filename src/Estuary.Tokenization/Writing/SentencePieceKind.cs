// Public mirror of sentencepiece's piece types for writing models; values are the proto wire values.
// Invariant: numbering equals ModelProto.SentencePiece.Type; never renumber.
namespace Estuary.Tokenization.Writing;

/// <summary>The type of a piece in a SentencePiece model (<c>ModelProto.SentencePiece.Type</c>), with its wire value.</summary>
public enum SentencePieceKind
{
    /// <summary>An ordinary piece that BPE may produce by merging.</summary>
    Normal = 1,
    /// <summary>The unknown piece (exactly one per model).</summary>
    Unknown = 2,
    /// <summary>A control piece such as <c>&lt;s&gt;</c> or <c>&lt;/s&gt;</c>: never produced from text.</summary>
    Control = 3,
    /// <summary>A piece matched literally in the text before BPE.</summary>
    UserDefined = 4,
    /// <summary>A reserved piece that is never produced.</summary>
    Unused = 5,
    /// <summary>A byte-fallback piece spelled <c>&lt;0xNN&gt;</c>.</summary>
    Byte = 6,
}
