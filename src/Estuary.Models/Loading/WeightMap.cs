// The only place checkpoint tensor names live: maps Hugging Face Llama/Baichuan names to layer weights and checks shapes.
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
    public Weight Embedding() => Get("model.embed_tokens.weight", config.VocabSize, H);

    /// <summary>[H] final norm gain.</summary>
    public Weight FinalNorm() => Get("model.norm.weight", H);

    /// <summary>[V, H] output projection (the embedding table when tied and no lm_head is stored).</summary>
    public Weight LmHead()
    {
        const string name = "lm_head.weight";
        if (reader.Contains(name)) return Get(name, config.VocabSize, H);
        if (config.TieWordEmbeddings) return Embedding();
        throw new CheckpointException($"tensor '{name}' is missing and tie_word_embeddings is false");
    }

    /// <summary>[H] pre-attention norm of <paramref name="layer"/>.</summary>
    public Weight InputNorm(int layer) => Get($"model.layers.{layer}.input_layernorm.weight", H);

    /// <summary>[H] pre-MLP norm of <paramref name="layer"/>.</summary>
    public Weight PostAttentionNorm(int layer) => Get($"model.layers.{layer}.post_attention_layernorm.weight", H);

    /// <summary>q [Hq·D, H], k [Hkv·D, H], v [Hkv·D, H]; split out of Baichuan's fused W_pack rows (q, k, v in that order) without copying.</summary>
    public (Weight Q, Weight K, Weight V) Qkv(int layer)
    {
        var prefix = $"model.layers.{layer}.self_attn.";
        if (config.FusedQkv)
        {
            var pack = Get(prefix + "W_pack.weight", QDim + 2 * KvDim, H);
            return (pack.SliceRows(0, QDim, pack.Name + "[q]"), pack.SliceRows(QDim, KvDim, pack.Name + "[k]"),
                pack.SliceRows(QDim + KvDim, KvDim, pack.Name + "[v]"));
        }
        return (Get(prefix + "q_proj.weight", QDim, H), Get(prefix + "k_proj.weight", KvDim, H), Get(prefix + "v_proj.weight", KvDim, H));
    }

    /// <summary>[H, Hq·D] attention output projection.</summary>
    public Weight OProj(int layer) => Get($"model.layers.{layer}.self_attn.o_proj.weight", H, QDim);

    /// <summary>[I, H].</summary>
    public Weight GateProj(int layer) => Get($"model.layers.{layer}.mlp.gate_proj.weight", config.IntermediateSize, H);

    /// <summary>[I, H].</summary>
    public Weight UpProj(int layer) => Get($"model.layers.{layer}.mlp.up_proj.weight", config.IntermediateSize, H);

    /// <summary>[H, I].</summary>
    public Weight DownProj(int layer) => Get($"model.layers.{layer}.mlp.down_proj.weight", H, config.IntermediateSize);

    /// <summary>
    /// Checkpoint module name (tensor name without ".weight") of a linear of <paramref name="layer"/>, for quantized loaders that read
    /// <c>module.qweight</c> and the like. <see cref="LinearRole.Qkv"/> is Baichuan's fused module; Q/K/V exist only when unfused.
    /// </summary>
    public string Module(int layer, LinearRole role) => role switch
    {
        LinearRole.Qkv when config.FusedQkv => $"model.layers.{layer}.self_attn.W_pack",
        LinearRole.Q when !config.FusedQkv => $"model.layers.{layer}.self_attn.q_proj",
        LinearRole.K when !config.FusedQkv => $"model.layers.{layer}.self_attn.k_proj",
        LinearRole.V when !config.FusedQkv => $"model.layers.{layer}.self_attn.v_proj",
        LinearRole.O => $"model.layers.{layer}.self_attn.o_proj",
        LinearRole.Gate => $"model.layers.{layer}.mlp.gate_proj",
        LinearRole.Up => $"model.layers.{layer}.mlp.up_proj",
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

    private Weight Get(string name, params long[] expected)
    {
        if (!reader.Contains(name)) throw new CheckpointException($"tensor '{name}' is missing from the checkpoint");
        var info = reader.GetInfo(name);
        var expectedShape = new Shape(expected);
        if (!info.Shape.Equals(expectedShape))
            throw new CheckpointException($"tensor '{name}' has shape {info.Shape}, expected {expectedShape} from config.json");
        if (info.DType is not (DType.F32 or DType.F16 or DType.BF16))
            throw new CheckpointException($"tensor '{name}' has dtype {info.DType}; expected F32, F16 or BF16");
        return reader.Load(name);
    }
}
