// Named model shapes: real Llama 2 / Llama 3.x / Mistral / Qwen / Phi-3 / Baichuan2 sizes for benchmarks and tiny ones for tests.
// Invariant: every preset parses with ModelConfig and gets the position encoding its name promises.
using Estuary.Models.Config;

namespace Estuary.Models.Synthetic;

/// <summary>Presets for <see cref="RandomModelWriter"/>.</summary>
public static class ModelShapes
{
    private static readonly ModelShape[] s_all =
    [
        Llama("tinyllama-1.1b", hidden: 2048, layers: 22, heads: 32, kvHeads: 4, intermediate: 5632, vocab: 32000, positions: 2048),
        // llama2.c's 110M model: hidden 768, 12 layers, 12 heads, intermediate 2048, Llama-2 vocabulary; the serving-benchmark model.
        Llama("llama-110m", hidden: 768, layers: 12, heads: 12, kvHeads: 12, intermediate: 2048, vocab: 32000, positions: 1024),
        Llama("llama2-7b", hidden: 4096, layers: 32, heads: 32, kvHeads: 32, intermediate: 11008, vocab: 32000, positions: 4096),
        // Llama 3.x: rope_theta 500000, 128k context by llama3 RoPE scaling of an 8192-token original; 3.2-1B ties lm_head to the embedding;
        // a byte-level tokenizer.json with Llama 3's special tokens.
        Llama("llama3.2-1b", hidden: 2048, layers: 16, heads: 32, kvHeads: 8, intermediate: 8192, vocab: 128256, positions: 131072,
            theta: 500000.0, ropeScaling: RopeScaling.Llama3(factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192), tied: true,
            tokenizer: SyntheticTokenizer.ByteLevel),
        Llama("llama3.1-8b", hidden: 4096, layers: 32, heads: 32, kvHeads: 8, intermediate: 14336, vocab: 128256, positions: 131072,
            theta: 500000.0, ropeScaling: RopeScaling.Llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192),
            tokenizer: SyntheticTokenizer.ByteLevel),
        // Mistral-7B-Instruct-v0.3: rope_theta 1e6, 32768 positions and pieces, no sliding window.
        Llama("mistral-7b", hidden: 4096, layers: 32, heads: 32, kvHeads: 8, intermediate: 14336, vocab: 32768, positions: 32768,
            theta: 1000000.0) with { Family = ModelFamily.Mistral },
        // Qwen2.5-7B-Instruct (q/k/v biases) and Qwen3-8B (q/k norms): rope_theta 1e6, Qwen's byte-level tokenizer layout with
        // <|endoftext|> = 151643, <|im_start|> = 151644, <|im_end|> = 151645 and an embedding padded to 152064 / 151936 rows.
        Llama("qwen2.5-7b", hidden: 3584, layers: 28, heads: 28, kvHeads: 4, intermediate: 18944, vocab: 152064, positions: 32768,
            theta: 1000000.0, tokenizer: SyntheticTokenizer.Qwen) with { Family = ModelFamily.Qwen2, RmsNormEps = 1e-6 },
        Llama("qwen3-8b", hidden: 4096, layers: 36, heads: 32, kvHeads: 8, intermediate: 12288, vocab: 151936, positions: 40960,
            theta: 1000000.0, tokenizer: SyntheticTokenizer.Qwen) with { Family = ModelFamily.Qwen3, RmsNormEps = 1e-6 },
        // Phi-3-mini-4k-instruct: multi-head, fused qkv_proj and gate_up_proj, a 2047-token sliding window, 32064 pieces.
        Llama("phi-3-mini", hidden: 3072, layers: 32, heads: 32, kvHeads: 32, intermediate: 8192, vocab: 32064, positions: 4096)
            with { Family = ModelFamily.Phi3, SlidingWindow = 2047, OriginalMaxPositionEmbeddings = 4096 },
        // Phi-4-mini-instruct: GQA, tied, partial_rotary_factor 0.75 (96 of 128 dimensions turn), longrope to 131072 positions from a
        // 4096-token original (attention factor √(1 + ln 32 / ln 4096) ≈ 1.19), an o200k-sized vocabulary (a synthetic byte-level
        // tokenizer in Llama 3's layout stands in for its own). Its short/long factors here are synthetic (1 and a rise to 32).
        Llama("phi-4-mini", hidden: 3072, layers: 32, heads: 24, kvHeads: 8, intermediate: 8192, vocab: 200064, positions: 131072,
            tied: true, tokenizer: SyntheticTokenizer.ByteLevel, ropeScaling: SyntheticLongRope(48, 4096, 131072))
            with { Family = ModelFamily.Phi3, PartialRotaryFactor = 0.75, OriginalMaxPositionEmbeddings = 4096, RmsNormEps = 1e-5 },
        Baichuan("baichuan2-7b", hidden: 4096, layers: 32, heads: 32, intermediate: 11008, vocab: 125696, maxLength: 4096, rope: true),
        Baichuan("baichuan2-13b", hidden: 5120, layers: 40, heads: 40, intermediate: 13696, vocab: 125696, maxLength: 4096, rope: false),
        Llama("tiny-llama", hidden: 128, layers: 2, heads: 4, kvHeads: 2, intermediate: 256, vocab: 512, positions: 512),
        Llama("tiny-mistral", hidden: 128, layers: 2, heads: 4, kvHeads: 2, intermediate: 256, vocab: 512, positions: 512,
            theta: 1000000.0) with { Family = ModelFamily.Mistral },
        // Qwen's architectures at a tiny width, with Qwen's tokenizer layout (so the embedding keeps Qwen3's 151936 rows): a real Qwen
        // tokenizer folder can replace the synthetic one. tiny-qwen2 ties lm_head to the embedding, as Qwen2.5-0.5B to 3B do.
        Llama("tiny-qwen2", hidden: 64, layers: 2, heads: 4, kvHeads: 2, intermediate: 128, vocab: 151936, positions: 4096,
            theta: 1000000.0, tied: true, tokenizer: SyntheticTokenizer.Qwen) with { Family = ModelFamily.Qwen2, RmsNormEps = 1e-6 },
        Llama("tiny-qwen3", hidden: 64, layers: 2, heads: 4, kvHeads: 2, intermediate: 128, vocab: 151936, positions: 4096,
            theta: 1000000.0, tokenizer: SyntheticTokenizer.Qwen) with { Family = ModelFamily.Qwen3, RmsNormEps = 1e-6 },
        Llama("tiny-phi3", hidden: 128, layers: 2, heads: 4, kvHeads: 2, intermediate: 256, vocab: 512, positions: 512,
            ropeScaling: SyntheticLongRope(12, 128, 512))
            with { Family = ModelFamily.Phi3, PartialRotaryFactor = 0.75, OriginalMaxPositionEmbeddings = 128 },
        Baichuan("tiny-baichuan-rope", hidden: 128, layers: 2, heads: 4, intermediate: 256, vocab: 512, maxLength: 512, rope: true),
        // Six heads: ALiBi slopes for a head count that is not a power of two, as in Baichuan2-13B's 40.
        Baichuan("tiny-baichuan-alibi", hidden: 96, layers: 2, heads: 6, intermediate: 256, vocab: 512, maxLength: 512, rope: false),
    ];

    /// <summary>All presets, real sizes first.</summary>
    public static IReadOnlyList<ModelShape> All => s_all;

    /// <summary>The preset names: <c>tinyllama-1.1b</c>, <c>llama-110m</c>, <c>llama2-7b</c>, <c>llama3.2-1b</c> and <c>llama3.1-8b</c> (llama3 RoPE
    /// scaling, byte-level tokenizer), <c>mistral-7b</c> (v0.3), <c>qwen2.5-7b</c> and <c>qwen3-8b</c> (Qwen's tokenizer layout), <c>phi-3-mini</c> and
    /// <c>phi-4-mini</c>, <c>baichuan2-7b</c> (RoPE), <c>baichuan2-13b</c> (ALiBi), <c>tiny-llama</c>, <c>tiny-mistral</c>, <c>tiny-qwen2</c>,
    /// <c>tiny-qwen3</c>, <c>tiny-phi3</c>, <c>tiny-baichuan-rope</c>, <c>tiny-baichuan-alibi</c>.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. s_all.Select(s => s.Name)];

    /// <summary>The preset called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">no preset has that name; the message lists the valid names.</exception>
    public static ModelShape Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return s_all.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"unknown model shape '{name}'; valid names: {string.Join(", ", Names)}", nameof(name));
    }

    private static ModelShape Llama(string name, int hidden, int layers, int heads, int kvHeads, int intermediate, int vocab, int positions,
                                    double theta = 10000.0, RopeScaling? ropeScaling = null, bool tied = false,
                                    SyntheticTokenizer tokenizer = SyntheticTokenizer.SentencePiece) => new()
    {
        Name = name,
        Family = ModelFamily.Llama,
        HiddenSize = hidden,
        IntermediateSize = intermediate,
        NumLayers = layers,
        NumHeads = heads,
        NumKvHeads = kvHeads,
        VocabSize = vocab,
        MaxPositionEmbeddings = positions,
        RmsNormEps = 1e-5,
        RopeTheta = theta,
        RopeScaling = ropeScaling ?? RopeScaling.None,
        TieWordEmbeddings = tied,
        Tokenizer = tokenizer,
    };

    // LongRoPE factors for benchmark shapes: 1 below the original context, and from there a rise from 1 to the context ratio over
    // the frequencies (low frequencies stretched most), the shape real Phi-3 factors have, not their values.
    private static RopeScaling SyntheticLongRope(int count, int original, int positions) => RopeScaling.LongRope(
        [.. Enumerable.Repeat(1.0, count)],
        [.. Enumerable.Range(0, count).Select(j => Math.Pow((double)positions / original, (double)j / (count - 1)))],
        original, positions);

    // Baichuan2-7B's config has max_position_embeddings (RoPE); 13B's has only model_max_length (ALiBi).
    private static ModelShape Baichuan(string name, int hidden, int layers, int heads, int intermediate, int vocab, int maxLength, bool rope) => new()
    {
        Name = name,
        Family = ModelFamily.Baichuan,
        HiddenSize = hidden,
        IntermediateSize = intermediate,
        NumLayers = layers,
        NumHeads = heads,
        NumKvHeads = heads,
        VocabSize = vocab,
        MaxPositionEmbeddings = rope ? maxLength : null,
        ModelMaxLength = maxLength,
        RmsNormEps = 1e-6,
    };
}
