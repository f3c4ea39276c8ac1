// Public SentencePiece BPE tokenizer: exact sentencepiece encode/decode plus the BOS/EOS policy of a model folder.
// Invariant: immutable and thread-safe after construction; ids and text match sentencepiece for supported models.
using System.Text;
using System.Text.Json;

namespace Estuary.Tokenization;

/// <summary>
/// A SentencePiece BPE tokenizer read from a <c>tokenizer.model</c> file, producing exactly the ids and text of the
/// sentencepiece library (including byte fallback and the dummy-prefix space), with the BOS/EOS policy of the model.
/// </summary>
public sealed class TextTokenizer
{
    private readonly SentencePieceModel _model;
    private readonly BpeEncoder _encoder;
    private readonly DecodeTable _decodeTable;

    private TextTokenizer(SentencePieceModel model, bool addBos, bool addEos, int bosId, int eosId, int? padId)
    {
        _model = model;
        _encoder = new BpeEncoder(model);
        _decodeTable = new DecodeTable(model);
        AddBos = addBos;
        AddEos = addEos;
        BosId = bosId;
        EosId = eosId;
        PadId = padId;
    }

    /// <summary>Number of pieces in the model; every valid id is in [0, VocabSize).</summary>
    public int VocabSize => _model.Count;

    /// <summary>Id of the beginning-of-sequence piece (<c>&lt;s&gt;</c>), or -1 if the model has none.</summary>
    public int BosId { get; }

    /// <summary>Id of the end-of-sequence piece (<c>&lt;/s&gt;</c>), or -1 if the model has none.</summary>
    public int EosId { get; }

    /// <summary>Id of the unknown piece (<c>&lt;unk&gt;</c>).</summary>
    public int UnkId => _model.UnkId;

    /// <summary>Id of the padding piece when the model or its special_tokens_map.json names one.</summary>
    public int? PadId { get; }

    /// <summary>Whether <see cref="Encode"/> prepends <see cref="BosId"/> when asked for special tokens.</summary>
    public bool AddBos { get; }

    /// <summary>Whether <see cref="Encode"/> appends <see cref="EosId"/> when asked for special tokens.</summary>
    public bool AddEos { get; }

    /// <summary>
    /// Loads <c>tokenizer.model</c> from a Hugging Face model folder, with <c>add_bos_token</c>/<c>add_eos_token</c>
    /// from <c>tokenizer_config.json</c> (Llama defaults true/false when absent) and special tokens from
    /// <c>special_tokens_map.json</c> when present.
    /// </summary>
    /// <exception cref="FileNotFoundException">tokenizer.model is missing or unreadable.</exception>
    /// <exception cref="InvalidDataException">a file is corrupt or describes an unsupported model; the message names the file.</exception>
    public static TextTokenizer Load(string modelDir)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDir);
        var modelPath = Path.Combine(modelDir, "tokenizer.model");
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"SentencePiece model '{modelPath}' not found", modelPath);
        var model = SentencePieceModel.Load(modelPath);

        var addBos = true;
        var addEos = false;
        string? bosPiece = null, eosPiece = null, padPiece = null;
        var configPath = Path.Combine(modelDir, "tokenizer_config.json");
        if (File.Exists(configPath))
        {
            using var config = ReadJson(configPath);
            var root = config.RootElement;
            addBos = ReadBool(root, "add_bos_token", addBos, configPath);
            addEos = ReadBool(root, "add_eos_token", addEos, configPath);
            bosPiece = ReadTokenContent(root, "bos_token");
            eosPiece = ReadTokenContent(root, "eos_token");
            padPiece = ReadTokenContent(root, "pad_token");
        }
        var mapPath = Path.Combine(modelDir, "special_tokens_map.json");
        if (File.Exists(mapPath))
        {
            // special_tokens_map.json is what Hugging Face loads last, so it wins over tokenizer_config.json.
            using var map = ReadJson(mapPath);
            var root = map.RootElement;
            bosPiece = ReadTokenContent(root, "bos_token") ?? bosPiece;
            eosPiece = ReadTokenContent(root, "eos_token") ?? eosPiece;
            padPiece = ReadTokenContent(root, "pad_token") ?? padPiece;
        }

        var bosId = ResolvePiece(model, bosPiece) ?? model.BosId;
        var eosId = ResolvePiece(model, eosPiece) ?? model.EosId;
        var padId = ResolvePiece(model, padPiece) ?? (model.PadId >= 0 ? model.PadId : null);
        return new TextTokenizer(model, addBos, addEos, bosId, eosId, padId);
    }

    /// <summary>Loads a <c>tokenizer.model</c> file directly, with an explicit BOS/EOS policy.</summary>
    /// <exception cref="FileNotFoundException">the file is missing or unreadable.</exception>
    /// <exception cref="InvalidDataException">the file is corrupt or not a supported BPE model; the message names it.</exception>
    public static TextTokenizer FromModelFile(string tokenizerModelPath, bool addBos, bool addEos)
    {
        ArgumentException.ThrowIfNullOrEmpty(tokenizerModelPath);
        if (!File.Exists(tokenizerModelPath))
            throw new FileNotFoundException($"SentencePiece model '{tokenizerModelPath}' not found", tokenizerModelPath);
        var model = SentencePieceModel.Load(tokenizerModelPath);
        return new TextTokenizer(model, addBos, addEos, model.BosId, model.EosId, model.PadId >= 0 ? model.PadId : null);
    }

    /// <summary>
    /// Encodes text exactly as sentencepiece's <c>EncodeAsIds</c>; with <paramref name="addSpecialTokens"/> the
    /// BOS/EOS ids are added according to <see cref="AddBos"/>/<see cref="AddEos"/>. Literal "&lt;s&gt;" in the
    /// text is plain text; USER_DEFINED pieces in the text are matched.
    /// </summary>
    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 2 + 2);
        if (addSpecialTokens && AddBos && BosId >= 0) ids.Add(BosId);
        _encoder.Encode(text, ids);
        if (addSpecialTokens && AddEos && EosId >= 0) ids.Add(EosId);
        return [.. ids];
    }

    /// <summary>
    /// Encodes text in which special tokens are written out (a rendered chat template: "&lt;s&gt;[INST] hi [/INST]"), as
    /// Hugging Face tokenizers do: the text of every CONTROL or UNKNOWN piece becomes that id, and each stretch of text between
    /// them is encoded on its own with <see cref="Encode"/>. With <paramref name="legacy"/> (tokenizer_config.json's "legacy",
    /// true unless it says false) every stretch gets the dummy-prefix space, as Meta's code and the legacy Llama tokenizers give
    /// it; without, only a stretch that starts the text does. No BOS/EOS is added beyond those written.
    /// </summary>
    public int[] EncodeWithSpecialTokens(string text, bool legacy = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 2 + 2);
        int segmentStart = 0;
        for (int i = 0; i < text.Length;)
        {
            if (MatchSpecial(text, i) is not { } special)
            {
                i++;
                continue;
            }
            if (i > segmentStart) _encoder.Encode(text[segmentStart..i], ids, legacy || segmentStart == 0);
            ids.Add(special.Id);
            i += special.Text.Length;
            segmentStart = i;
        }
        if (segmentStart < text.Length) _encoder.Encode(text[segmentStart..], ids, legacy || segmentStart == 0);
        return [.. ids];
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
        Enumerable.Range(0, _model.Count)
            .Where(id => _model.Types[id] is PieceType.Control or PieceType.Unknown && _model.Pieces[id].Length > 0)
            .Select(id => (Text: _model.Pieces[id], Id: id))
            .GroupBy(p => p.Text[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(p => p.Text.Length).ToList());

    private Dictionary<char, List<(string Text, int Id)>>? _specialPieces;

    /// <summary>
    /// Decodes ids exactly as sentencepiece's <c>DecodeIds</c>: '▁' becomes a space, the leading dummy-prefix space
    /// is dropped, runs of byte pieces are read as UTF-8 with one U+FFFD per invalid byte, &lt;unk&gt; shows as " ⁇ ".
    /// Control pieces (BOS/EOS) are invisible unless <paramref name="skipSpecialTokens"/> is false, in which case
    /// their piece text is inserted without changing the rest of the text.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">an id is outside [0, VocabSize).</exception>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = true)
    {
        var decoder = new PieceDecoder(_decodeTable, skipSpecialTokens);
        var text = new StringBuilder(ids.Length * 4);
        foreach (var id in ids) decoder.Add(id, text);
        decoder.Finish(text);
        return text.ToString();
    }

    /// <summary>The piece string of an id as stored in the model (with '▁', "&lt;0xNN&gt;" for bytes).</summary>
    /// <exception cref="ArgumentOutOfRangeException">the id is outside [0, VocabSize).</exception>
    public string IdToPiece(int id)
    {
        CheckId(id);
        return _model.Pieces[id];
    }

    /// <summary>
    /// The bytes <paramref name="id"/> adds to the text in the middle of a sequence ('▁' as a space, a byte piece's byte), or
    /// null for pieces that add no text of their own (CONTROL, UNKNOWN, UNUSED). Structured output matches these bytes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">the id is outside [0, VocabSize).</exception>
    public byte[]? TokenBytes(int id)
    {
        CheckId(id);
        return _model.Types[id] switch
        {
            PieceType.Byte => [(byte)_decodeTable.ByteValue[id]],
            PieceType.Normal or PieceType.UserDefined when _decodeTable.Surface[id].Length > 0 => Encoding.UTF8.GetBytes(_decodeTable.Surface[id]),
            _ => null,
        };
    }

    /// <summary>True for CONTROL and UNKNOWN pieces (BOS, EOS, unk): ids that carry no text of their own.</summary>
    /// <exception cref="ArgumentOutOfRangeException">the id is outside [0, VocabSize).</exception>
    public bool IsControl(int id)
    {
        CheckId(id);
        return _model.Types[id] is PieceType.Control or PieceType.Unknown;
    }

    /// <summary>
    /// Creates a streaming detokenizer for one output sequence decoded on its own: its deltas concatenate to
    /// <see cref="Decode"/> of the generated ids (so a leading dummy-prefix space is dropped).
    /// </summary>
    public IncrementalDetokenizer CreateDetokenizer(bool skipSpecialTokens = true) =>
        new(new PieceDecoder(_decodeTable, skipSpecialTokens));

    /// <summary>
    /// Creates a streaming detokenizer for the continuation of <paramref name="promptIds"/>: the prompt is decoded
    /// silently first, so the deltas are the text the continuation adds to the prompt's text (a generated "▁he"
    /// after "because" yields " he", which a standalone decode would strip).
    /// </summary>
    public IncrementalDetokenizer CreateDetokenizer(ReadOnlySpan<int> promptIds, bool skipSpecialTokens = true)
    {
        var decoder = new PieceDecoder(_decodeTable, skipSpecialTokens);
        var discarded = new StringBuilder();
        foreach (var id in promptIds)
        {
            decoder.Add(id, discarded);
            discarded.Clear();
        }
        return new IncrementalDetokenizer(decoder);
    }

    private void CheckId(int id)
    {
        if ((uint)id >= (uint)_model.Count)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id must be in [0, {_model.Count})");
    }

    private static int? ResolvePiece(SentencePieceModel model, string? piece)
    {
        if (piece is null) return null;
        if (model.ReservedPieces.TryGetValue(piece, out var id) || model.MergeablePieces.TryGetValue(piece, out id)) return id;
        return null;
    }

    private static JsonDocument ReadJson(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
    }

    private static bool ReadBool(JsonElement root, string key, bool fallback, string path)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(key, out var value)) return fallback;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Null => fallback,
            _ => throw new InvalidDataException($"'{path}': {key} must be true or false"),
        };
    }

    // Tokens appear either as a plain string or as an AddedToken object with "content".
    private static string? ReadTokenContent(JsonElement root, string key)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(key, out var value)) return null;
        if (value.ValueKind == JsonValueKind.String) return value.GetString();
        if (value.ValueKind == JsonValueKind.Object && value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            return content.GetString();
        return null;
    }
}
