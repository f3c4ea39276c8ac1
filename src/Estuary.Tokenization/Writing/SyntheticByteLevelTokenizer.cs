// Writes a deterministic, English-flavoured byte-level BPE tokenizer of any size in the Llama 3 layout (tokenizer.json,
// tokenizer_config.json with a chat template, special_tokens_map.json), for benchmark checkpoints at Llama 3 shapes.
// Invariant: the merged tokens form a prefix-closed set of 'Ġ'-words (the words of SyntheticVocabulary), each made by the merge
// (prefix, last letter) ranked after its prefix's, so BPE reaches every token from its own text; every byte has a token, so any
// text round-trips; the 256 special tokens follow the BPE vocabulary, as Llama 3's do.
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Estuary.Tokenization.Writing;

/// <summary>A synthetic byte-level BPE tokenizer laid out as Llama 3's (<c>tokenizer.json</c> and its configs).</summary>
public static class SyntheticByteLevelTokenizer
{
    /// <summary>Number of special added tokens after the BPE vocabulary (Llama 3's 256).</summary>
    public const int SpecialTokenCount = 256;

    /// <summary>The smallest vocabulary: the 256 byte tokens and the special tokens, no merges.</summary>
    public const int MinimumSize = 256 + SpecialTokenCount;

    /// <summary>Offset of <c>&lt;|begin_of_text|&gt;</c> (the BOS) among the special tokens.</summary>
    public const int BeginOfTextOffset = 0;

    /// <summary>Offset of <c>&lt;|end_of_text|&gt;</c> among the special tokens.</summary>
    public const int EndOfTextOffset = 1;

    /// <summary>Offset of <c>&lt;|start_header_id|&gt;</c> among the special tokens.</summary>
    public const int StartHeaderOffset = 6;

    /// <summary>Offset of <c>&lt;|end_header_id|&gt;</c> among the special tokens.</summary>
    public const int EndHeaderOffset = 7;

    /// <summary>Offset of <c>&lt;|eom_id|&gt;</c> (end of a message that awaits a tool's result) among the special tokens.</summary>
    public const int EndOfMessageOffset = 8;

    /// <summary>Offset of <c>&lt;|eot_id|&gt;</c> (the EOS of tokenizer_config.json) among the special tokens.</summary>
    public const int EndOfTurnOffset = 9;

    /// <summary>
    /// The chat template written to <c>tokenizer_config.json</c>, in the style of Llama 3's: <c>bos_token</c>, then per message
    /// <c>&lt;|start_header_id|&gt;</c> role <c>&lt;|end_header_id|&gt;</c>, two newlines, the trimmed content and
    /// <c>&lt;|eot_id|&gt;</c>; with <c>add_generation_prompt</c> the assistant's header.
    /// </summary>
    public const string ChatTemplate =
        "{{ bos_token }}{% for message in messages %}" +
        "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}" +
        "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

    // Llama 3's pre-tokenizer split (tiktoken's cl100k pattern), in Oniguruma syntax as tokenizer.json writes it.
    private const string SplitPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private const char SpaceChar = '\u0120'; // 'Ġ', the byte-level character of ' '

    private static readonly JsonWriterOptions s_writerOptions = new()
    {
        Indented = true,
        IndentSize = 2,
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // the alphabet's characters as themselves, as Hugging Face writes them
    };

    private static readonly JsonSerializerOptions s_configOptions = new()
    {
        WriteIndented = true,
        IndentSize = 2,
        NewLine = "\n",
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// The name of the special token at <paramref name="offset"/> (its id is vocabSize − 256 + offset), as Llama 3.1 and 3.2 name
    /// them: 0 <c>&lt;|begin_of_text|&gt;</c>, 1 <c>&lt;|end_of_text|&gt;</c>, 2–3 <c>&lt;|reserved_special_token_0|&gt;</c>…<c>_1|&gt;</c>,
    /// 4 <c>&lt;|finetune_right_pad_id|&gt;</c>, 5 <c>&lt;|reserved_special_token_2|&gt;</c>, 6 <c>&lt;|start_header_id|&gt;</c>,
    /// 7 <c>&lt;|end_header_id|&gt;</c>, 8 <c>&lt;|eom_id|&gt;</c>, 9 <c>&lt;|eot_id|&gt;</c>, 10 <c>&lt;|python_tag|&gt;</c>, then
    /// <c>&lt;|reserved_special_token_3|&gt;</c> onward.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is outside [0, 256).</exception>
    public static string SpecialToken(int offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(offset, SpecialTokenCount);
        return offset switch
        {
            BeginOfTextOffset => "<|begin_of_text|>",
            EndOfTextOffset => "<|end_of_text|>",
            2 or 3 => $"<|reserved_special_token_{offset - 2}|>",
            4 => "<|finetune_right_pad_id|>",
            5 => "<|reserved_special_token_2|>",
            StartHeaderOffset => "<|start_header_id|>",
            EndHeaderOffset => "<|end_header_id|>",
            EndOfMessageOffset => "<|eom_id|>",
            EndOfTurnOffset => "<|eot_id|>",
            10 => "<|python_tag|>",
            _ => $"<|reserved_special_token_{offset - 8}|>",
        };
    }

    /// <summary>
    /// Writes <c>tokenizer.json</c>, <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c> into <paramref name="dir"/>
    /// (each replacing an existing file, appearing only when complete). The vocabulary has exactly <paramref name="vocabSize"/>
    /// tokens: ids 0..255 the byte-level alphabet's characters in code-point order (so ' ' is 'Ġ' at 220, as in Llama 3), then
    /// 'Ġ'-words built by merges ranked in order of creation (the words of <see cref="SyntheticVocabulary"/>), then the
    /// <see cref="SpecialTokenCount"/> special tokens (see <see cref="SpecialToken"/>). tokenizer.json is Llama 3's layout:
    /// Split (Llama 3's pattern, Isolated) then ByteLevel without its own regex, BPE with <c>ignore_merges</c> and merges as pairs,
    /// <c>&lt;|begin_of_text|&gt;</c> put before a sequence by TemplateProcessing, the ByteLevel decoder. tokenizer_config.json
    /// names <c>&lt;|begin_of_text|&gt;</c> and <c>&lt;|eot_id|&gt;</c> as BOS and EOS and carries <see cref="ChatTemplate"/>;
    /// special_tokens_map.json names the same two. Deterministic: the same arguments write the same bytes.
    /// </summary>
    /// <param name="dir">An existing folder.</param>
    /// <param name="vocabSize">Number of tokens, special ones included.</param>
    /// <param name="modelMaxLength">tokenizer_config.json's <c>model_max_length</c> (Llama 3.1's 131072 by default).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="vocabSize"/> is below <see cref="MinimumSize"/>, or
    /// <paramref name="modelMaxLength"/> is not positive.</exception>
    public static void Write(string dir, int vocabSize, int modelMaxLength = 131072)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        CheckSize(vocabSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(modelMaxLength);
        AtomicFile.Write(Path.Combine(dir, "tokenizer.json"), SerializeTokenizerJson(vocabSize));
        AtomicFile.Write(Path.Combine(dir, "tokenizer_config.json"), ConfigBytes(BuildTokenizerConfig(vocabSize, modelMaxLength)));
        AtomicFile.Write(Path.Combine(dir, "special_tokens_map.json"), ConfigBytes(new JsonObject
        {
            ["bos_token"] = TokenObject(SpecialToken(BeginOfTextOffset)),
            ["eos_token"] = TokenObject(SpecialToken(EndOfTurnOffset)),
        }));
    }

    /// <summary>The bytes of the <c>tokenizer.json</c> that <see cref="Write"/> writes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="vocabSize"/> is below <see cref="MinimumSize"/>.</exception>
    public static byte[] SerializeTokenizerJson(int vocabSize)
    {
        CheckSize(vocabSize);
        int bpeSize = vocabSize - SpecialTokenCount;
        var special = new string[SpecialTokenCount];
        for (int offset = 0; offset < SpecialTokenCount; offset++) special[offset] = SpecialToken(offset);
        return Serialize(bpeSize, special, SplitPattern, bos: SpecialToken(BeginOfTextOffset), ignoreMerges: true);
    }

    /// <summary>
    /// A byte-level BPE tokenizer.json: <paramref name="bpeSize"/> tokens (the 256 byte characters, then 'Ġ'-words by ranked merges),
    /// then <paramref name="special"/> as added tokens; the Split <paramref name="splitPattern"/> (Isolated) before ByteLevel, the
    /// Unicode <paramref name="normalizer"/> ("NFC"…) or none, and <paramref name="bos"/> (one of the special tokens) put before each
    /// sequence unless null.
    /// </summary>
    internal static byte[] Serialize(int bpeSize, IReadOnlyList<string> special, string splitPattern, string? bos, bool ignoreMerges,
        string? normalizer = null)
    {
        var tokens = new List<string>(bpeSize);
        tokens.AddRange(ByteLevelAlphabet.CharOfByte.Order().Select(c => c.ToString()));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var word in SyntheticVocabulary.Words())
        {
            if (tokens.Count == bpeSize) break;
            if (seen.Add(word)) tokens.Add(SpaceChar + word);
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            json.WriteStartObject();
            json.WriteString("version", "1.0");
            json.WriteNull("truncation");
            json.WriteNull("padding");
            json.WriteStartArray("added_tokens");
            for (int offset = 0; offset < special.Count; offset++)
            {
                json.WriteStartObject();
                json.WriteNumber("id", bpeSize + offset);
                json.WriteString("content", special[offset]);
                json.WriteBoolean("single_word", false);
                json.WriteBoolean("lstrip", false);
                json.WriteBoolean("rstrip", false);
                json.WriteBoolean("normalized", false);
                json.WriteBoolean("special", true);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            if (normalizer is null) json.WriteNull("normalizer");
            else
            {
                json.WriteStartObject("normalizer");
                json.WriteString("type", normalizer);
                json.WriteEndObject();
            }
            WritePreTokenizer(json, splitPattern);
            if (bos is not null) WritePostProcessor(json, bos, bpeSize + special.ToList().IndexOf(bos));
            // Without a BOS (Qwen) the post-processor only fixes the byte-level offsets.
            else
            {
                json.WriteStartObject("post_processor");
                WriteByteLevel(json, addPrefixSpace: false, trimOffsets: false, useRegex: false);
                json.WriteEndObject();
            }
            json.WriteStartObject("decoder");
            WriteByteLevel(json, addPrefixSpace: true, trimOffsets: true, useRegex: true);
            json.WriteEndObject();

            json.WriteStartObject("model");
            json.WriteString("type", "BPE");
            json.WriteNull("dropout");
            json.WriteNull("unk_token");
            json.WriteNull("continuing_subword_prefix");
            json.WriteNull("end_of_word_suffix");
            json.WriteBoolean("fuse_unk", false);
            json.WriteBoolean("byte_fallback", false);
            json.WriteBoolean("ignore_merges", ignoreMerges);
            json.WriteStartObject("vocab");
            for (int id = 0; id < tokens.Count; id++) json.WriteNumber(tokens[id], id);
            json.WriteEndObject();
            json.WriteStartArray("merges");
            for (int id = 256; id < tokens.Count; id++)
            {
                json.WriteStartArray();
                json.WriteStringValue(tokens[id].AsSpan(0, tokens[id].Length - 1));
                json.WriteStringValue(tokens[id].AsSpan(tokens[id].Length - 1));
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private static void CheckSize(int vocabSize)
    {
        if (vocabSize < MinimumSize)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize,
                $"a byte-level vocabulary needs at least {MinimumSize} tokens (the 256 bytes and the {SpecialTokenCount} special tokens)");
    }

    private static void WritePreTokenizer(Utf8JsonWriter json, string splitPattern)
    {
        json.WriteStartObject("pre_tokenizer");
        json.WriteString("type", "Sequence");
        json.WriteStartArray("pretokenizers");
        json.WriteStartObject();
        json.WriteString("type", "Split");
        json.WriteStartObject("pattern");
        json.WriteString("Regex", splitPattern);
        json.WriteEndObject();
        json.WriteString("behavior", "Isolated");
        json.WriteBoolean("invert", false);
        json.WriteEndObject();
        json.WriteStartObject();
        WriteByteLevel(json, addPrefixSpace: false, trimOffsets: true, useRegex: false);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    // ByteLevel offsets step, then TemplateProcessing putting the BOS before each sequence (the second of a pair too, as Llama 3's).
    private static void WritePostProcessor(Utf8JsonWriter json, string bos, int bosId)
    {
        void Special(int typeId)
        {
            json.WriteStartObject();
            json.WriteStartObject("SpecialToken");
            json.WriteString("id", bos);
            json.WriteNumber("type_id", typeId);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        void Sequence(string name, int typeId)
        {
            json.WriteStartObject();
            json.WriteStartObject("Sequence");
            json.WriteString("id", name);
            json.WriteNumber("type_id", typeId);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteStartObject("post_processor");
        json.WriteString("type", "Sequence");
        json.WriteStartArray("processors");
        json.WriteStartObject();
        WriteByteLevel(json, addPrefixSpace: true, trimOffsets: false, useRegex: true);
        json.WriteEndObject();
        json.WriteStartObject();
        json.WriteString("type", "TemplateProcessing");
        json.WriteStartArray("single");
        Special(0);
        Sequence("A", 0);
        json.WriteEndArray();
        json.WriteStartArray("pair");
        Special(0);
        Sequence("A", 0);
        Special(1);
        Sequence("B", 1);
        json.WriteEndArray();
        json.WriteStartObject("special_tokens");
        json.WriteStartObject(bos);
        json.WriteString("id", bos);
        json.WriteStartArray("ids");
        json.WriteNumberValue(bosId);
        json.WriteEndArray();
        json.WriteStartArray("tokens");
        json.WriteStringValue(bos);
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteByteLevel(Utf8JsonWriter json, bool addPrefixSpace, bool trimOffsets, bool useRegex)
    {
        json.WriteString("type", "ByteLevel");
        json.WriteBoolean("add_prefix_space", addPrefixSpace);
        json.WriteBoolean("trim_offsets", trimOffsets);
        json.WriteBoolean("use_regex", useRegex);
    }

    // Keys in the order transformers writes them (sorted).
    private static JsonObject BuildTokenizerConfig(int vocabSize, int modelMaxLength)
    {
        var decoder = new JsonObject();
        for (int offset = 0; offset < SpecialTokenCount; offset++)
        {
            var token = TokenObject(SpecialToken(offset));
            token["special"] = true;
            decoder[(vocabSize - SpecialTokenCount + offset).ToString(System.Globalization.CultureInfo.InvariantCulture)] = token;
        }
        return new JsonObject
        {
            ["added_tokens_decoder"] = decoder,
            ["bos_token"] = SpecialToken(BeginOfTextOffset),
            ["chat_template"] = ChatTemplate,
            ["clean_up_tokenization_spaces"] = false,
            ["eos_token"] = SpecialToken(EndOfTurnOffset),
            ["model_input_names"] = new JsonArray("input_ids", "attention_mask"),
            ["model_max_length"] = modelMaxLength,
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
        };
    }

    internal static JsonObject TokenObject(string content) => new()
    {
        ["content"] = content,
        ["lstrip"] = false,
        ["normalized"] = false,
        ["rstrip"] = false,
        ["single_word"] = false,
    };

    internal static byte[] ConfigBytes(JsonObject json) => Encoding.UTF8.GetBytes(json.ToJsonString(s_configOptions) + "\n");
}
