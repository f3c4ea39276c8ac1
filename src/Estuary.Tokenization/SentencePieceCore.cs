// The SentencePiece BPE family behind TextTokenizer: exact sentencepiece encode/decode of a tokenizer.model.
// Invariant: immutable and thread-safe.
using System.Text;

namespace Estuary.Tokenization;

internal sealed class SentencePieceCore : TokenizerCore
{
    private readonly BpeEncoder _encoder;
    private readonly DecodeTable _decodeTable;
    private Dictionary<char, List<(string Text, int Id)>>? _specialPieces;

    public SentencePieceCore(SentencePieceModel model)
    {
        Model = model;
        _encoder = new BpeEncoder(model);
        _decodeTable = new DecodeTable(model);
    }

    public SentencePieceModel Model { get; }

    public override int Count => Model.Count;

    public override int UnkId => Model.UnkId;

    /// <summary>sentencepiece's EncodeAsIds: "&lt;s&gt;" in the text is plain text; USER_DEFINED pieces are matched.</summary>
    public override void Encode(string text, List<int> output) => _encoder.Encode(text, output);

    /// <summary>
    /// As Hugging Face's slow Llama tokenizer: the text of every CONTROL or UNKNOWN piece becomes that id, and each stretch
    /// between them is encoded on its own, with the dummy-prefix space when <paramref name="legacy"/> or at the text's start.
    /// </summary>
    public override void EncodeWithSpecialTokens(string text, List<int> output, bool legacy)
    {
        var segmentStart = 0;
        for (var i = 0; i < text.Length;)
        {
            if (MatchSpecial(text, i) is not { } special)
            {
                i++;
                continue;
            }
            if (i > segmentStart) _encoder.Encode(text[segmentStart..i], output, legacy || segmentStart == 0);
            output.Add(special.Id);
            i += special.Text.Length;
            segmentStart = i;
        }
        if (segmentStart < text.Length) _encoder.Encode(text[segmentStart..], output, legacy || segmentStart == 0);
    }

    // The longest special piece written at position i, if any.
    private (string Text, int Id)? MatchSpecial(string text, int i)
    {
        if (!SpecialPiecesByFirstChar.TryGetValue(text[i], out var candidates)) return null;
        foreach (var (piece, id) in candidates) // longest first
            if (string.CompareOrdinal(text, i, piece, 0, piece.Length) == 0) return (piece, id);
        return null;
    }

    // CONTROL and UNKNOWN pieces by their first character, longest first.
    private Dictionary<char, List<(string Text, int Id)>> SpecialPiecesByFirstChar => _specialPieces ??=
        Enumerable.Range(0, Model.Count)
            .Where(id => Model.Types[id] is PieceType.Control or PieceType.Unknown && Model.Pieces[id].Length > 0)
            .Select(id => (Text: Model.Pieces[id], Id: id))
            .GroupBy(p => p.Text[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(p => p.Text.Length).ToList());

    public override string Piece(int id) => Model.Pieces[id];

    public override int? PieceId(string piece) =>
        Model.ReservedPieces.TryGetValue(piece, out var id) || Model.MergeablePieces.TryGetValue(piece, out id) ? id : null;

    public override byte[]? TokenBytes(int id) => Model.Types[id] switch
    {
        PieceType.Byte => [(byte)_decodeTable.ByteValue[id]],
        PieceType.Normal or PieceType.UserDefined when _decodeTable.Surface[id].Length > 0 => Encoding.UTF8.GetBytes(_decodeTable.Surface[id]),
        _ => null,
    };

    /// <summary>The piece with '▁' shown as a space (byte pieces stay "&lt;0xNN&gt;").</summary>
    public override string TokenText(int id) => Model.Pieces[id].Replace('\u2581', ' ');

    public override bool IsControl(int id) => Model.Types[id] is PieceType.Control or PieceType.Unknown;

    public override ITokenDecoder CreateDecoder(bool skipSpecialTokens) => new PieceDecoder(_decodeTable, skipSpecialTokens);
}
