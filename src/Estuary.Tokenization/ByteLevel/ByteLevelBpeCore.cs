// The byte-level BPE family behind TextTokenizer (tokenizer.json of Llama 3, Qwen2, GPT-2 and their kin).
// Invariant: immutable and thread-safe; Encode recognizes added tokens written in the text, as the tokenizers library does.
using System.Text;

namespace Estuary.Tokenization;

internal sealed class ByteLevelBpeCore : TokenizerCore
{
    private readonly ByteLevelBpeModel _model;
    private readonly ByteLevelBpeEncoder _encoder;
    private readonly Dictionary<string, int> _addedIds;
    private readonly byte[][] _tokenBytes;
    private readonly bool[] _special;

    public ByteLevelBpeCore(ByteLevelBpeModel model)
    {
        _model = model;
        _encoder = new ByteLevelBpeEncoder(model);
        UnkId = model.UnkId;
        _addedIds = [];
        foreach (var token in model.AddedTokens) _addedIds.TryAdd(token.Content, token.Id);
        _special = new bool[model.Count];
        foreach (var token in model.AddedTokens) _special[token.Id] = token.Special;
        _tokenBytes = new byte[model.Count][];
        for (var id = 0; id < model.Count; id++)
        {
            var text = model.Tokens[id];
            var isAdded = _addedIds.TryGetValue(text, out var addedId) && addedId == id;
            _tokenBytes[id] = (isAdded ? null : ByteLevelAlphabet.ToBytes(text)) ?? Encoding.UTF8.GetBytes(text);
        }
    }

    public override int Count => _model.Count;

    public override int UnkId { get; }

    public override void Encode(string text, List<int> output) => _encoder.Encode(text, output);

    /// <summary>The same as <see cref="Encode"/>: byte-level tokenizers have no dummy prefix, so "legacy" changes nothing.</summary>
    public override void EncodeWithSpecialTokens(string text, List<int> output, bool legacy) => _encoder.Encode(text, output);

    public override string Piece(int id) => _model.Tokens[id];

    public override int? PieceId(string piece) =>
        _addedIds.TryGetValue(piece, out var id) || _model.Vocab.TryGetValue(piece, out id) ? id : null;

    public override byte[]? TokenBytes(int id) => _special[id] ? null : (byte[])_tokenBytes[id].Clone(); // callers may keep or change it

    /// <summary>The token's bytes read as UTF-8 (an incomplete character shows as U+FFFD), a special token's text as written.</summary>
    public override string TokenText(int id) => _special[id] ? _model.Tokens[id] : Encoding.UTF8.GetString(_tokenBytes[id]);

    public override bool IsControl(int id) => _special[id];

    public override ITokenDecoder CreateDecoder(bool skipSpecialTokens) => new ByteLevelDecoder(_tokenBytes, _special, skipSpecialTokens);
}
