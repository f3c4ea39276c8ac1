// Writes a deterministic byte-level BPE tokenizer in the Qwen2.5 / Qwen3 layout (tokenizer.json, tokenizer_config.json with a ChatML
// template, special_tokens_map.json), for benchmark checkpoints at Qwen shapes.
// Invariant: the BPE part is SyntheticByteLevelTokenizer's (every text round-trips); the special tokens start at id 151643 with
// <|endoftext|>, <|im_start|>, <|im_end|> as Qwen's do, no BOS is added, and ids past the last special token have no token at all
// (Qwen's vocab_size 151936 pads the embedding beyond the tokenizer). Like Qwen's, it normalizes text to NFC before splitting.
using System.Text.Json.Nodes;

namespace Estuary.Tokenization.Writing;

/// <summary>A synthetic byte-level BPE tokenizer laid out as Qwen2.5's and Qwen3's.</summary>
public static class SyntheticQwenTokenizer
{
    /// <summary>Id of <c>&lt;|endoftext|&gt;</c>, the first special token (Qwen's BOS id in config.json and its pad token).</summary>
    public const int EndOfTextId = 151643;

    /// <summary>Id of <c>&lt;|im_start|&gt;</c>.</summary>
    public const int ImStartId = 151644;

    /// <summary>Id of <c>&lt;|im_end|&gt;</c> (the EOS of the Instruct models).</summary>
    public const int ImEndId = 151645;

    /// <summary>ChatML, as Qwen's chat templates write a conversation without tools.</summary>
    public const string ChatTemplate =
        "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    // Qwen2's pre-tokenizer split: Llama 3's pattern with single digits.
    private const string SplitPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    // Qwen2.5's 22 special tokens from 151643 on; Qwen3 adds the last four.
    private static readonly string[] s_special =
    [
        "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>", "<|box_end|>",
        "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
        "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>",
        "<tool_response>", "</tool_response>", "<think>", "</think>",
    ];

    /// <summary>Special tokens of the Qwen2.5 layout (Qwen3 has four more: tool responses and thinking).</summary>
    public const int Qwen25SpecialCount = 22;

    /// <summary>
    /// Writes <c>tokenizer.json</c>, <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c> into <paramref name="dir"/>:
    /// 151643 BPE tokens (the byte characters, then 'Ġ'-words), then the special tokens (22 for Qwen2.5, 26 with
    /// <paramref name="qwen3"/>), NFC, Qwen2's split pattern, no BOS added; EOS <c>&lt;|im_end|&gt;</c>, pad
    /// <c>&lt;|endoftext|&gt;</c>, <see cref="ChatTemplate"/>. Deterministic.
    /// </summary>
    public static void Write(string dir, bool qwen3, int modelMaxLength = 131072)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(modelMaxLength);
        var special = s_special[..(qwen3 ? s_special.Length : Qwen25SpecialCount)];
        AtomicFile.Write(Path.Combine(dir, "tokenizer.json"),
            SyntheticByteLevelTokenizer.Serialize(EndOfTextId, special, SplitPattern, bos: null, ignoreMerges: false, normalizer: "NFC"));
        var decoder = new JsonObject();
        for (int i = 0; i < special.Length; i++)
        {
            var token = SyntheticByteLevelTokenizer.TokenObject(special[i]);
            token["special"] = true;
            decoder[(EndOfTextId + i).ToString(System.Globalization.CultureInfo.InvariantCulture)] = token;
        }
        AtomicFile.Write(Path.Combine(dir, "tokenizer_config.json"), SyntheticByteLevelTokenizer.ConfigBytes(new JsonObject
        {
            ["add_bos_token"] = false,
            ["add_prefix_space"] = false,
            ["added_tokens_decoder"] = decoder,
            ["bos_token"] = null,
            ["chat_template"] = ChatTemplate,
            ["clean_up_tokenization_spaces"] = false,
            ["eos_token"] = special[ImEndId - EndOfTextId],
            ["errors"] = "replace",
            ["model_max_length"] = modelMaxLength,
            ["pad_token"] = special[0],
            ["split_special_tokens"] = false,
            ["tokenizer_class"] = "Qwen2Tokenizer",
            ["unk_token"] = null,
        }));
        AtomicFile.Write(Path.Combine(dir, "special_tokens_map.json"), SyntheticByteLevelTokenizer.ConfigBytes(new JsonObject
        {
            ["eos_token"] = SyntheticByteLevelTokenizer.TokenObject(special[ImEndId - EndOfTextId]),
            ["pad_token"] = SyntheticByteLevelTokenizer.TokenObject(special[0]),
        }));
    }
}
