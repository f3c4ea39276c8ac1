// The only place checkpoint tensor names live: maps Hugging Face Llama/Baichuan/Qwen2/Qwen3/Mistral/Phi-3 names to layer weights and
// checks shapes; biases and q/k norms are read exactly where config.json says the architecture has them.
// Invariant: every weight handed out has the shape the config implies and a float dtype, or loading fails naming the tensor.
using Estuary.Models.Config;
using Estuary.Tensors;

namespace Estuary.Models.Loading;

/// <summary>Typed access to a checkpoint's weights for a decoder-only model.</summary>
public sealed class WeightMap(ICheckpointReader reader, ModelConfig config)
{
    private int H => config.HiddenSize;
    private int QDim => config.NumHeads * config.HeadDim;
    private int KvDim => config.NumKvHeads * config.HeadDim;

    /// <summary>The reader (for transforms that need other tensors, e.g. quantized ones).</summary>
    public ICheckpointReader Reader => reader;

    /// <summary>[V, H] token embeddings.</summary>
    public Weight Embedding() => Get(EmbeddingName, config.VocabSize, H);

    /// <summary>[H] final norm gain.</summary>
    public Weight FinalNorm() => Get(FinalNormName, H);

    /// <summary>[V, H] output projection (the embedding table when tied and no lm_head is stored).</summary>
    public Weight LmHead()
    {
        if (reader.Contains(LmHeadName)) return Get(LmHeadName, config.VocabSize, H);
        if (config.TieWordEmbeddings) return Embedding();
        throw MissingHead();
    }

    /// <summary>[H] pre-attention norm of <paramref name="layer"/>.</summary>
    public Weight InputNorm(int layer) => Get(InputNormName(layer), H);

    /// <summary>[H] pre-MLP norm of <paramref name="layer"/>.</summary>
    public Weight PostAttentionNorm(int layer) => Get(PostAttentionNormName(layer), H);

    /// <summary>q [Hq·D, H], k [Hkv·D, H], v [Hkv·D, H]; split out of Baichuan's fused W_pack rows (q, k, v in that order) without copying.</summary>
    public (Weight Q, Weight K, Weight V) Qkv(int layer)
    {
        if (config.FusedQkv)
        {
            var pack = Linear(layer, LinearRole.Qkv);
            return (pack.SliceRows(0, QDim, pack.Name + "[q]"), pack.SliceRows(QDim, KvDim, pack.Name + "[k]"),
                pack.SliceRows(QDim + KvDim, KvDim, pack.Name + "[v]"));
        }
        return (Linear(layer, LinearRole.Q), Linear(layer, LinearRole.K), Linear(layer, LinearRole.V));
    }

    /// <summary>Whether config.json gives the decoder-layer linear <paramref name="role"/> a bias (<see cref="DecoderVariant"/>).</summary>
    public bool HasBias(LinearRole role) => role switch
    {
        LinearRole.Q or LinearRole.K or LinearRole.V => config.Variant.QkvBias,
        LinearRole.O => config.Variant.OutputBias,
        LinearRole.Gate or LinearRole.Up or LinearRole.Down => config.Variant.MlpBias,
        _ => false,
    };

    /// <summary>
    /// [N] bias of a decoder-layer linear when <see cref="HasBias"/>, else null. A bias stored where config.json says there is none
    /// fails (dropping it would silently compute another model; a converted checkpoint usually lacks the config key).
    /// </summary>
    public Weight? Bias(int layer, LinearRole role)
    {
        string name = Module(layer, role) + ".bias";
        if (HasBias(role)) return Get(name, LinearShape(role).Out);
        if (reader.Contains(name)) throw StrayBias(name);
        return null;
    }

    /// <summary>[D] per-head gain of q (Qwen3's self_attn.q_norm).</summary>
    public Weight QNorm(int layer) => Get(QNormName(layer), config.HeadDim);

    /// <summary>[D] per-head gain of k (Qwen3's self_attn.k_norm).</summary>
    public Weight KNorm(int layer) => Get(KNormName(layer), config.HeadDim);

    /// <summary>[H, Hq·D] attention output projection.</summary>
    public Weight OProj(int layer) => Linear(layer, LinearRole.O);

    /// <summary>[I, H]; the first I rows of Phi-3's fused gate_up_proj, without copying.</summary>
    public Weight GateProj(int layer)
    {
        if (!config.FusedGateUp) return Linear(layer, LinearRole.Gate);
        var fused = Linear(layer, LinearRole.GateUp);
        return fused.SliceRows(0, config.IntermediateSize, fused.Name + "[gate]");
    }

    /// <summary>[I, H]; the last I rows of Phi-3's fused gate_up_proj, without copying.</summary>
    public Weight UpProj(int layer)
    {
        if (!config.FusedGateUp) return Linear(layer, LinearRole.Up);
        var fused = Linear(layer, LinearRole.GateUp);
        return fused.SliceRows(config.IntermediateSize, config.IntermediateSize, fused.Name + "[up]");
    }

    /// <summary>[H, I].</summary>
    public Weight DownProj(int layer) => Linear(layer, LinearRole.Down);

    /// <summary>
    /// Checkpoint module name (tensor name without ".weight") of a linear of <paramref name="layer"/>, for quantized loaders that read
    /// <c>module.qweight</c> and the like. <see cref="LinearRole.Qkv"/> is Baichuan's fused module; Q/K/V exist only when unfused.
    /// </summary>
    public string Module(int layer, LinearRole role) => role switch
    {
        LinearRole.Qkv when config.FusedQkv => $"model.layers.{layer}.self_attn.{(config.Architecture == ModelConfig.Phi3Architecture ? "qkv_proj" : "W_pack")}",
        LinearRole.Q when !config.FusedQkv => $"model.layers.{layer}.self_attn.q_proj",
        LinearRole.K when !config.FusedQkv => $"model.layers.{layer}.self_attn.k_proj",
        LinearRole.V when !config.FusedQkv => $"model.layers.{layer}.self_attn.v_proj",
        LinearRole.O => $"model.layers.{layer}.self_attn.o_proj",
        LinearRole.Gate when !config.FusedGateUp => $"model.layers.{layer}.mlp.gate_proj",
        LinearRole.Up when !config.FusedGateUp => $"model.layers.{layer}.mlp.up_proj",
        LinearRole.GateUp when config.FusedGateUp => $"model.layers.{layer}.mlp.gate_up_proj",
        LinearRole.Down => $"model.layers.{layer}.mlp.down_proj",
        _ => throw new ArgumentException($"{role} is not a linear of this {(config.FusedQkv ? "fused" : "unfused")}-qkv model", nameof(role)),
    };

    /// <summary>A tensor of any dtype by full name, checked against <paramref name="dtype"/> and <paramref name="expected"/> (quantized modules).</summary>
    public Weight Tensor(string name, DType dtype, params long[] expected)
    {
        if (!reader.Contains(name)) throw new CheckpointException($"tensor '{name}' is missing from the checkpoint");
        var info = reader.GetInfo(name);
        if (!info.Shape.Equals(new Shape(expected)) || info.DType != dtype)
            throw new CheckpointException($"tensor '{name}' is {info.DType} {info.Shape}, expected {dtype} {new Shape(expected)}");
        return reader.Load(name);
    }

    /// <summary>
    /// Runs the checks of loading a dense (float) model up front, without reading any tensor data: every tensor the accessors above
    /// hand out for this config exists with the shape config.json implies and a float dtype, or this throws
    /// <see cref="CheckpointException"/> naming the tensor (for writers that must not start on a checkpoint that cannot load).
    /// </summary>
    public void CheckDense()
    {
        Check(EmbeddingName, config.VocabSize, H);
        Check(FinalNormName, H);
        if (reader.Contains(LmHeadName)) Check(LmHeadName, config.VocabSize, H);
        else if (!config.TieWordEmbeddings) throw MissingHead();
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            Check(InputNormName(layer), H);
            Check(PostAttentionNormName(layer), H);
            if (config.Variant.QkNorm)
            {
                Check(QNormName(layer), config.HeadDim);
                Check(KNormName(layer), config.HeadDim);
            }
            foreach (var role in LayerRoles)
            {
                var (n, k) = LinearShape(role);
                Check(Module(layer, role) + ".weight", n, k);
                string bias = Module(layer, role) + ".bias";
                if (HasBias(role)) Check(bias, n);
                else if (reader.Contains(bias)) throw StrayBias(bias);
            }
        }
    }

    /// <summary>The linears of every decoder layer in checkpoint order: fused Qkv or Q, K, V; then O; fused GateUp or Gate, Up; then Down.</summary>
    public IReadOnlyList<LinearRole> LayerRoles =>
    [
        .. config.FusedQkv ? [LinearRole.Qkv] : new[] { LinearRole.Q, LinearRole.K, LinearRole.V },
        LinearRole.O,
        .. config.FusedGateUp ? [LinearRole.GateUp] : new[] { LinearRole.Gate, LinearRole.Up },
        LinearRole.Down,
    ];

    /// <summary>[out, in] features of a decoder-layer linear, as config.json implies.</summary>
    public (long Out, long In) LinearShape(LinearRole role) => role switch
    {
        LinearRole.Qkv => (QDim + 2L * KvDim, H),
        LinearRole.Q => (QDim, H),
        LinearRole.K or LinearRole.V => (KvDim, H),
        LinearRole.O => (H, QDim),
        LinearRole.Gate or LinearRole.Up => (config.IntermediateSize, H),
        LinearRole.GateUp => (2L * config.IntermediateSize, H),
        LinearRole.Down => (H, config.IntermediateSize),
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "not a decoder-layer linear"),
    };

    internal const string EmbeddingName = "model.embed_tokens.weight", LmHeadName = "lm_head.weight";
    private const string FinalNormName = "model.norm.weight";

    private static CheckpointException MissingHead() => new($"tensor '{LmHeadName}' is missing and tie_word_embeddings is false");

    private static string InputNormName(int layer) => $"model.layers.{layer}.input_layernorm.weight";

    private static string PostAttentionNormName(int layer) => $"model.layers.{layer}.post_attention_layernorm.weight";

    private static string QNormName(int layer) => $"model.layers.{layer}.self_attn.q_norm.weight";

    private static string KNormName(int layer) => $"model.layers.{layer}.self_attn.k_norm.weight";

    private CheckpointException StrayBias(string name) =>
        new($"tensor '{name}' is in the checkpoint, but config.json ({config.Architecture}) gives that linear no bias " +
            "(Llama: set attention_bias / mlp_bias; Qwen2 has q/k/v biases only)");

    private Weight Linear(int layer, LinearRole role)
    {
        var (n, k) = LinearShape(role);
        return Get(Module(layer, role) + ".weight", n, k);
    }

    private Weight Get(string name, params long[] expected)
    {
        Check(name, expected);
        return reader.Load(name);
    }

    private void Check(string name, params long[] expected)
    {
        if (!reader.Contains(name)) throw new CheckpointException($"tensor '{name}' is missing from the checkpoint");
        var info = reader.GetInfo(name);
        var expectedShape = new Shape(expected);
        if (!info.Shape.Equals(expectedShape))
            throw new CheckpointException($"tensor '{name}' has shape {info.Shape}, expected {expectedShape} from config.json");
        if (info.DType is not (DType.F32 or DType.F16 or DType.BF16))
            throw new CheckpointException($"tensor '{name}' has dtype {info.DType}; expected F32, F16 or BF16");
    }
}
