// Public tokenizer of a model folder: exact SentencePiece BPE (tokenizer.model) or byte-level BPE (tokenizer.json) encode and
// decode, plus the model's BOS/EOS policy. Invariant: immutable and thread-safe after construction; ids and text match the
// tokenizer's own library (sentencepiece, Hugging Face tokenizers) for supported models.
using System.Text;
using System.Text.Json;

namespace Estuary.Tokenization;

/// <summary>
/// A model's tokenizer: SentencePiece BPE read from <c>tokenizer.model</c> (Llama 2, Baichuan2), producing exactly the ids
/// and text of the sentencepiece library (byte fallback, dummy-prefix space), or byte-level BPE read from
/// <c>tokenizer.json</c> (Llama 3, Qwen2, GPT-2 family), producing exactly the ids and text of Hugging Face tokenizers;
/// with the BOS/EOS policy of the model.
/// </summary>
public sealed class TextTokenizer
{
    private readonly TokenizerCore _core;
    private readonly int[] _prefixIds;
    private readonly int[] _suffixIds;

    private TextTokenizer(TokenizerCore core, int[] prefixIds, int[] suffixIds, int bosId, int eosId, int? padId)
    {
        _core = core;
        _prefixIds = prefixIds;
        _suffixIds = suffixIds;
        BosId = bosId;
        EosId = eosId;
        PadId = padId;
    }

    /// <summary>Number of pieces in the model; every valid id is in [0, VocabSize).</summary>
    public int VocabSize => _core.Count;

    /// <summary>Id of the beginning-of-sequence piece (<c>&lt;s&gt;</c>, <c>&lt;|begin_of_text|&gt;</c>), or -1 if the model has none.</summary>
    public int BosId { get; }

    /// <summary>Id of the end-of-sequence piece (<c>&lt;/s&gt;</c>, <c>&lt;|eot_id|&gt;</c>), or -1 if the model has none.</summary>
    public int EosId { get; }

    /// <summary>Id of the unknown piece (<c>&lt;unk&gt;</c>), or -1 if the model has none (byte-level BPE needs none).</summary>
    public int UnkId => _core.UnkId;

    /// <summary>Id of the padding piece when the model or its special_tokens_map.json names one.</summary>
    public int? PadId { get; }

    /// <summary>Whether <see cref="Encode"/> prepends <see cref="BosId"/> when asked for special tokens.</summary>
    public bool AddBos => _prefixIds.Length > 0;

    /// <summary>Whether <see cref="Encode"/> appends <see cref="EosId"/> when asked for special tokens.</summary>
    public bool AddEos => _suffixIds.Length > 0;

    /// <summary>Whether this is a byte-level BPE tokenizer read from tokenizer.json.</summary>
    public bool IsByteLevel => _core is ByteLevelBpeCore;

    /// <summary>
    /// Added tokens that tokenizer_config.json's <c>added_tokens_decoder</c> lists past a SentencePiece model's pieces (Phi-3-mini's
    /// <c>&lt;|user|&gt;</c>, <c>&lt;|end|&gt;</c>, a fine-tune's <c>&lt;pad&gt;</c>), by id: they are not read, so text naming them is
    /// encoded as text and their ids are never decoded. Empty for byte-level tokenizers, whose added tokens are read.
    /// </summary>
    public IReadOnlyList<(int Id, string Content)> UnreadAddedTokens { get; private init; } = [];

    /// <summary>
    /// Loads the tokenizer of a Hugging Face model folder: <c>tokenizer.model</c> (SentencePiece) when present, with
    /// <c>add_bos_token</c>/<c>add_eos_token</c> from <c>tokenizer_config.json</c> (Llama defaults true/false when absent);
    /// otherwise <c>tokenizer.json</c> (byte-level BPE), whose post-processor says which ids surround a sequence. Special
    /// tokens come from <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c> when present.
    /// </summary>
    /// <exception cref="FileNotFoundException">neither tokenizer file exists, or the file is unreadable.</exception>
    /// <exception cref="InvalidDataException">a file is corrupt; the message names the file.</exception>
    /// <exception cref="NotSupportedException">the tokenizer uses a component that is not implemented; the message names it.</exception>
    public static TextTokenizer Load(string modelDir)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDir);
        var modelPath = Path.Combine(modelDir, "tokenizer.model");
        var jsonPath = Path.Combine(modelDir, "tokenizer.json");
        var useJson = !File.Exists(modelPath) && File.Exists(jsonPath);
        if (!useJson && !File.Exists(modelPath))
            throw new FileNotFoundException($"no tokenizer in '{modelDir}': neither tokenizer.model (SentencePiece) nor tokenizer.json (byte-level BPE) exists", modelPath);
        TokenizerCore core;
        int[] prefix = [], suffix = [];
        bool addBos = true, addEos = false; // SentencePiece (Llama defaults); a tokenizer.json's post-processor decides for it
        if (useJson)
        {
            var model = TokenizerJsonReader.Load(jsonPath);
            core = new ByteLevelBpeCore(model);
            (prefix, suffix) = (model.PrefixIds, model.SuffixIds);
        }
        else
        {
            var model = SentencePieceModel.Load(modelPath);
            core = new SentencePieceCore(model);
        }

        string? bosPiece = null, eosPiece = null, padPiece = null;
        List<(int Id, string Content)> unreadAdded = [];
        var configPath = Path.Combine(modelDir, "tokenizer_config.json");
        if (File.Exists(configPath))
        {
            using var config = ReadJson(configPath);
            var root = config.RootElement;
            if (!useJson)
            {
                addBos = ReadBool(root, "add_bos_token", addBos, configPath);
                addEos = ReadBool(root, "add_eos_token", addEos, configPath);
                unreadAdded = AddedTokensPast(root, core.Count);
            }
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

        if (core is SentencePieceCore sp)
        {
            var bosId = Resolve(core, bosPiece) ?? sp.Model.BosId;
            var eosId = Resolve(core, eosPiece) ?? sp.Model.EosId;
            var padId = Resolve(core, padPiece) ?? (sp.Model.PadId >= 0 ? sp.Model.PadId : null);
            return new TextTokenizer(core, addBos && bosId >= 0 ? [bosId] : [], addEos && eosId >= 0 ? [eosId] : [], bosId, eosId, padId)
            {
                UnreadAddedTokens = unreadAdded,
            };
        }
        var bos = Resolve(core, bosPiece) ?? (prefix.Length == 1 ? prefix[0] : -1);
        var eos = Resolve(core, eosPiece) ?? (suffix.Length == 1 ? suffix[0] : -1);
        return new TextTokenizer(core, prefix, suffix, bos, eos, Resolve(core, padPiece));
    }

    // added_tokens_decoder entries ({"32010": {"content": "<|user|>", …}}) whose id is past the model's pieces, in id order.
    private static List<(int Id, string Content)> AddedTokensPast(JsonElement root, int count)
    {
        var result = new List<(int, string)>();
        if (!root.TryGetProperty("added_tokens_decoder", out var decoder) || decoder.ValueKind != JsonValueKind.Object) return result;
        foreach (var entry in decoder.EnumerateObject())
        {
            if (!int.TryParse(entry.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id) || id < count)
                continue;
            var content = entry.Value.ValueKind == JsonValueKind.Object && entry.Value.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String
                ? c.GetString()! : "";
            result.Add((id, content));
        }
        result.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return result;
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
        int[] prefix = addBos && model.BosId >= 0 ? [model.BosId] : [];
        int[] suffix = addEos && model.EosId >= 0 ? [model.EosId] : [];
        return new TextTokenizer(new SentencePieceCore(model), prefix, suffix, model.BosId, model.EosId, model.PadId >= 0 ? model.PadId : null);
    }

    /// <summary>
    /// Encodes text as the tokenizer's own library does; with <paramref name="addSpecialTokens"/> the ids the model puts
    /// around a sequence are added (BOS/EOS per <see cref="AddBos"/>/<see cref="AddEos"/>). SentencePiece: exactly
    /// <c>EncodeAsIds</c>, so literal "&lt;s&gt;" in the text is plain text and USER_DEFINED pieces are matched. Byte-level
    /// BPE: exactly Hugging Face tokenizers' <c>encode</c>, so added tokens written in the text ("&lt;|eot_id|&gt;") are
    /// read as their ids.
    /// </summary>
    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 2 + 2);
        if (addSpecialTokens) ids.AddRange(_prefixIds);
        _core.Encode(text, ids);
        if (addSpecialTokens) ids.AddRange(_suffixIds);
        return [.. ids];
    }

    /// <summary>
    /// Encodes text in which special tokens are written out (a rendered chat template: "&lt;s&gt;[INST] hi [/INST]"), as
    /// Hugging Face tokenizers do: the text of every special token becomes its id. SentencePiece: CONTROL and UNKNOWN piece
    /// texts are special, and each stretch of text between them is encoded on its own with <see cref="Encode"/>; with
    /// <paramref name="legacy"/> (tokenizer_config.json's "legacy", true unless it says false) every stretch gets the
    /// dummy-prefix space, as Meta's code and the legacy Llama tokenizers give it; without, only a stretch that starts the
    /// text does. Byte-level BPE: the same as <see cref="Encode"/> without the surrounding ids. No BOS/EOS is added beyond
    /// those written.
    /// </summary>
    public int[] EncodeWithSpecialTokens(string text, bool legacy = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 2 + 2);
        _core.EncodeWithSpecialTokens(text, ids, legacy);
        return [.. ids];
    }

    /// <summary>
    /// Decodes ids as the tokenizer's own library does. SentencePiece (<c>DecodeIds</c>): '▁' becomes a space, the leading
    /// dummy-prefix space is dropped, runs of byte pieces are read as UTF-8 with one U+FFFD per invalid byte, &lt;unk&gt;
    /// shows as " ⁇ ". Byte-level BPE: the tokens' bytes read as UTF-8, one U+FFFD per maximal invalid subsequence.
    /// Special tokens (BOS/EOS) are invisible unless <paramref name="skipSpecialTokens"/> is false, in which case their
    /// text is inserted without changing the rest of the text.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">an id is outside [0, VocabSize).</exception>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = true)
    {
        var decoder = _core.CreateDecoder(skipSpecialTokens);
        var text = new StringBuilder(ids.Length * 4);
        foreach (var id in ids) decoder.Add(id, text);
        decoder.Finish(text);
        return text.ToString();
    }

    /// <summary>The piece string of an id as stored in the model ('▁' and "&lt;0xNN&gt;" in SentencePiece, "Ġ" for a space in byte-level BPE).</summary>
    /// <exception cref="ArgumentOutOfRangeException">the id is outside [0, VocabSize).</exception>
    public string IdToPiece(int id)
    {
        CheckId(id);
        return _core.Piece(id);
    }

    /// <summary>The id of a piece string as stored in the model, or null when there is none.</summary>
    public int? PieceToId(string piece)
    {
        ArgumentNullException.ThrowIfNull(piece);
        return _core.PieceId(piece);
    }

    /// <summary>
    /// The text an id shows on its own, for listings such as log-probabilities: SentencePiece pieces with '▁' as a space
    /// (byte pieces as "&lt;0xNN&gt;"), byte-level tokens' bytes read as UTF-8 (part of a character as U+FFFD).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">the id is outside [0, VocabSize).</exception>
    public string TokenText(int id)
    {
        CheckId(id);
        return _core.TokenText(id);
    }

    /// <summary>
    /// The bytes <paramref name="id"/> adds to the text in the middle of a sequence ('▁' as a space, a byte piece's byte), or
    /// null for pieces that add no text of their own (special tokens, unknown, unused). Structured output matches these bytes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">the id is outside [0, VocabSize).</exception>
    public byte[]? TokenBytes(int id)
    {
        CheckId(id);
        return _core.TokenBytes(id);
    }

    /// <summary>True for special ids (BOS, EOS, unk, a byte-level tokenizer's special added tokens): ids that carry no text of their own.</summary>
    /// <exception cref="ArgumentOutOfRangeException">the id is outside [0, VocabSize).</exception>
    public bool IsControl(int id)
    {
        CheckId(id);
        return _core.IsControl(id);
    }

    /// <summary>
    /// Creates a streaming detokenizer for one output sequence decoded on its own: its deltas concatenate to
    /// <see cref="Decode"/> of the generated ids (so a leading dummy-prefix space is dropped).
    /// </summary>
    public IncrementalDetokenizer CreateDetokenizer(bool skipSpecialTokens = true) => new(_core.CreateDecoder(skipSpecialTokens));

    /// <summary>
    /// Creates a streaming detokenizer for the continuation of <paramref name="promptIds"/>: the prompt is decoded
    /// silently first, so the deltas are the text the continuation adds to the prompt's text (a generated "▁he"
    /// after "because" yields " he", which a standalone decode would strip).
    /// </summary>
    public IncrementalDetokenizer CreateDetokenizer(ReadOnlySpan<int> promptIds, bool skipSpecialTokens = true)
    {
        var decoder = _core.CreateDecoder(skipSpecialTokens);
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
        if ((uint)id >= (uint)_core.Count)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id must be in [0, {_core.Count})");
    }

    private static int? Resolve(TokenizerCore core, string? piece) => piece is null ? null : core.PieceId(piece);

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
