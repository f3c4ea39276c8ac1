// The architecture sizes of a model to write with random weights, in the terms of its Hugging Face config.json.
// Invariant: a Baichuan shape has as many kv heads as heads, untied embeddings, no RoPE scaling and a SentencePiece tokenizer; its
// position encoding follows from MaxPositionEmbeddings as the loader decides it (RandomModelWriter refuses a shape that breaks this).
using Estuary.Models.Config;

namespace Estuary.Models.Synthetic;

/// <summary>Sizes of a decoder-only model; see <see cref="ModelShapes"/> for named presets.</summary>
public sealed record ModelShape
{
    /// <summary>Preset name (e.g. <c>llama2-7b</c>).</summary>
    public required string Name { get; init; }
    /// <summary>Architecture layout.</summary>
    public required ModelFamily Family { get; init; }
    /// <summary><c>hidden_size</c>.</summary>
    public required int HiddenSize { get; init; }
    /// <summary><c>intermediate_size</c>.</summary>
    public required int IntermediateSize { get; init; }
    /// <summary><c>num_hidden_layers</c>.</summary>
    public required int NumLayers { get; init; }
    /// <summary><c>num_attention_heads</c>.</summary>
    public required int NumHeads { get; init; }
    /// <summary><c>num_key_value_heads</c> (written for Llama only; Baichuan has no grouped-query attention).</summary>
    public required int NumKvHeads { get; init; }
    /// <summary><c>vocab_size</c>.</summary>
    public required int VocabSize { get; init; }
    /// <summary><c>max_position_embeddings</c>; for Baichuan its presence selects RoPE, its absence ALiBi.</summary>
    public int? MaxPositionEmbeddings { get; init; }
    /// <summary><c>model_max_length</c> (Baichuan configs carry it).</summary>
    public int? ModelMaxLength { get; init; }
    /// <summary><c>rms_norm_eps</c>.</summary>
    public required double RmsNormEps { get; init; }
    /// <summary><c>rope_theta</c> (written for Llama only).</summary>
    public double RopeTheta { get; init; } = 10000.0;
    /// <summary><c>rope_scaling</c> (Llama only; <see cref="RopeScaling.None"/> writes null).</summary>
    public RopeScaling RopeScaling { get; init; } = RopeScaling.None;
    /// <summary><c>tie_word_embeddings</c>: the checkpoint then has no <c>lm_head.weight</c> (Llama only).</summary>
    public bool TieWordEmbeddings { get; init; }
    /// <summary><c>partial_rotary_factor</c> (Phi-3 only): the share of each head RoPE turns.</summary>
    public double PartialRotaryFactor { get; init; } = 1.0;
    /// <summary><c>sliding_window</c> (Phi-3 only; null: none).</summary>
    public int? SlidingWindow { get; init; }
    /// <summary><c>original_max_position_embeddings</c> (Phi-3 only; null: not written).</summary>
    public int? OriginalMaxPositionEmbeddings { get; init; }
    /// <summary>The synthetic tokenizer the folder gets, and with it the special ids of the configs (byte-level: Llama and Phi-3 only).</summary>
    public SyntheticTokenizer Tokenizer { get; init; } = SyntheticTokenizer.SentencePiece;

    /// <summary>Head size D = hidden / heads.</summary>
    public int HeadDim => HiddenSize / NumHeads;

    /// <summary>The position encoding the loader will pick for this shape's config.</summary>
    public PositionEncoding PositionEncoding =>
        Family != ModelFamily.Baichuan || MaxPositionEmbeddings.HasValue ? PositionEncoding.Rope : PositionEncoding.Alibi;

    /// <summary>Number of parameters (the embedding counted once when tied to lm_head).</summary>
    public long ParameterCount
    {
        get
        {
            long h = HiddenSize, kv = (long)NumKvHeads * HeadDim, q = (long)NumHeads * HeadDim;
            long perLayer = 2 * h + h * (q + 2 * kv) + q * h + 3 * h * IntermediateSize;
            if (Family == ModelFamily.Qwen2) perLayer += q + 2 * kv;      // q/k/v biases
            if (Family == ModelFamily.Qwen3) perLayer += 2L * HeadDim;    // q_norm, k_norm
            return (TieWordEmbeddings ? 1L : 2L) * VocabSize * h + h + NumLayers * perLayer;
        }
    }
}
