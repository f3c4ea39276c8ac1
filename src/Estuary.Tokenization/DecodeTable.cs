// Per-id decode data precomputed once per tokenizer: surface text with '▁' → ' ', the same without the leading
// '▁' (for the dummy-prefix strip), byte values of BYTE pieces. Invariant: immutable, shared by all decoders.
namespace Estuary.Tokenization;

internal sealed class DecodeTable
{
    public DecodeTable(SentencePieceModel model)
    {
        Model = model;
        var n = model.Count;
        Surface = new string[n];
        SurfaceWithoutLeadingSpace = new string?[n];
        ByteValue = new short[n];
        for (var id = 0; id < n; id++)
        {
            var piece = model.Pieces[id];
            ByteValue[id] = -1;
            switch (model.Types[id])
            {
                case PieceType.Control:
                    Surface[id] = "";
                    break;
                case PieceType.Unknown:
                    Surface[id] = model.UnkSurface;
                    break;
                case PieceType.Byte:
                    Surface[id] = "";
                    ByteValue[id] = (short)Array.IndexOf(model.ByteToId, id);
                    break;
                default:
                    Surface[id] = piece.Replace('\u2581', ' ');
                    if (piece[0] == '\u2581') SurfaceWithoutLeadingSpace[id] = Surface[id][1..];
                    break;
            }
        }
        // sentencepiece strips the leading '▁' of the first piece only when the normalizer could have added it.
        StripsLeadingSpace = model.AddDummyPrefix || model.RemoveExtraWhitespaces;
    }

    public SentencePieceModel Model { get; }

    /// <summary>Decoded text of a non-byte piece ("" for CONTROL, the unk surface for UNKNOWN).</summary>
    public string[] Surface { get; }

    /// <summary>Surface without its leading space, for pieces starting with '▁'; null otherwise.</summary>
    public string?[] SurfaceWithoutLeadingSpace { get; }

    /// <summary>Byte value of a BYTE piece, -1 for every other piece.</summary>
    public short[] ByteValue { get; }

    public bool StripsLeadingSpace { get; }
}
