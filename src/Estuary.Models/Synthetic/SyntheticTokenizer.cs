// The kinds of synthetic tokenizer a random-weight model folder can be written with.
namespace Estuary.Models.Synthetic;

/// <summary>Which synthetic tokenizer (and which special ids in the configs) a <see cref="ModelShape"/> gets.</summary>
public enum SyntheticTokenizer
{
    /// <summary>A SentencePiece BPE <c>tokenizer.model</c> (Llama 2, Baichuan2): <c>&lt;s&gt;</c> = 1 and <c>&lt;/s&gt;</c> = 2.</summary>
    SentencePiece,
    /// <summary>
    /// A byte-level BPE <c>tokenizer.json</c> in the Llama 3 layout: 256 special tokens after the BPE vocabulary,
    /// <c>&lt;|begin_of_text|&gt;</c> the first, <c>&lt;|eot_id|&gt;</c> the tenth.
    /// </summary>
    ByteLevel,
    /// <summary>
    /// A byte-level BPE <c>tokenizer.json</c> in the Qwen2.5 / Qwen3 layout: 151643 BPE tokens, then <c>&lt;|endoftext|&gt;</c>
    /// (151643), <c>&lt;|im_start|&gt;</c>, <c>&lt;|im_end|&gt;</c> (151645) and the other special tokens; no BOS is added.
    /// </summary>
    Qwen,
}
