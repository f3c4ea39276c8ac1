// Builds a decoder block's linear layers from a checkpoint: dense weights as stored, or quantized modules when config.json carries a
// quantization_config (AWQ GEMM, our INT8), each with its float bias where config.json gives one. Invariant: the model code gets
// ILinears either way and never branches on quantization.
using Estuary.Models.Config;
using Estuary.Models.Layers;
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models.Quantization;

/// <summary>Linear layers of one checkpoint.</summary>
internal sealed class LinearLoader(ModelConfig config, WeightMap weights, IBackend backend)
{
    private readonly QuantizationConfig? _quant = QuantizationConfig.From(config);
    private int QDim => config.NumHeads * config.HeadDim;
    private int KvDim => config.NumKvHeads * config.HeadDim;
    private int H => config.HiddenSize;
    private int I => config.IntermediateSize;

    /// <summary>q [Hq·D, H], k [Hkv·D, H], v [Hkv·D, H].</summary>
    public (ILinear Q, ILinear K, ILinear V) Qkv(int layer)
    {
        if (_quant is null)
        {
            var (q, k, v) = weights.Qkv(layer);
            var fused = config.FusedQkv ? [weights.Module(layer, LinearRole.Qkv)]
                : new[] { weights.Module(layer, LinearRole.Q), weights.Module(layer, LinearRole.K), weights.Module(layer, LinearRole.V) };
            var biases = new[] { Bias(layer, LinearRole.Q), Bias(layer, LinearRole.K), Bias(layer, LinearRole.V) };
            return Dense([q, k, v], fused, biases) is [var lq, var lk, var lv] ? (lq, lk, lv) : throw new InvalidOperationException();
        }
        if (config.FusedQkv)
        {
            string m = weights.Module(layer, LinearRole.Qkv);
            int n = QDim + 2 * KvDim;
            return (Quantized(m, n, H, 0, QDim, m + "[q]"), Quantized(m, n, H, QDim, KvDim, m + "[k]"),
                Quantized(m, n, H, QDim + KvDim, KvDim, m + "[v]"));
        }
        return (Quantized(weights.Module(layer, LinearRole.Q), QDim, H, bias: Bias(layer, LinearRole.Q)),
            Quantized(weights.Module(layer, LinearRole.K), KvDim, H, bias: Bias(layer, LinearRole.K)),
            Quantized(weights.Module(layer, LinearRole.V), KvDim, H, bias: Bias(layer, LinearRole.V)));
    }

    /// <summary>[H, Hq·D].</summary>
    public ILinear OProj(int layer) => Layer(layer, LinearRole.O, weights.OProj, H, QDim);

    /// <summary>gate [I, H] and up [I, H] (split out of Phi-3's fused gate_up_proj, gate rows first).</summary>
    public (ILinear Gate, ILinear Up) GateUp(int layer)
    {
        if (!config.FusedGateUp) return (Layer(layer, LinearRole.Gate, weights.GateProj, I, H), Layer(layer, LinearRole.Up, weights.UpProj, I, H));
        string m = weights.Module(layer, LinearRole.GateUp);
        if (_quant is not null) return (Quantized(m, 2 * I, H, 0, I, m + "[gate]"), Quantized(m, 2 * I, H, I, I, m + "[up]"));
        return Dense([weights.GateProj(layer), weights.UpProj(layer)], [m], [null, null]) is [var gate, var up]
            ? (gate, up) : throw new InvalidOperationException();
    }

    /// <summary>[H, I].</summary>
    public ILinear Down(int layer) => Layer(layer, LinearRole.Down, weights.DownProj, H, I);

    // One unfused [n, k] linear of a layer with its bias: dense as stored, or quantized.
    private ILinear Layer(int layer, LinearRole role, Func<int, Weight> dense, int n, int k) => _quant is null
        ? Dense([dense(layer)], [weights.Module(layer, role)], [Bias(layer, role)])[0]
        : Quantized(weights.Module(layer, role), n, k, bias: Bias(layer, role));

    // The float bias of a linear (kept as stored: quantization never touches it), or null.
    private Weight? Bias(int layer, LinearRole role) => config.FusedQkv && role is LinearRole.Q or LinearRole.K or LinearRole.V
        ? null : weights.Bias(layer, role);

    /// <summary>
    /// The [V, H] output projection. Stored as INT8 (our INT8 checkpoints quantize it unless written with the head kept), it loads
    /// quantized, with NormHead's row norms taken from the dequantized rows. A float head of its own is put in the backend's
    /// preferred layout: a copy in process memory is rearranged and then freed; a mapped one (quantized checkpoints, or a float
    /// model about to be quantized at load) is rearranged into process memory straight from the mapping, which also reads faster
    /// per token than the file-backed pages. A tied head (the embedding table) in process memory is rearranged likewise, and the
    /// embedding reads its rows from that copy (DecoderStack); a mapped tied table is used as stored.
    /// </summary>
    public LmHead LmHead(bool normHead)
    {
        const string name = WeightMap.LmHeadName;
        if (_quant?.Method == QuantizationConfig.Int8Method && weights.Reader.Contains(name) && weights.Reader.GetInfo(name).DType == DType.I8)
        {
            var q = QuantizedCheckpoint.LoadInt8(weights, "lm_head", config.VocabSize, H, 0, config.VocabSize, "lm_head");
            var norms = normHead ? Layers.LmHead.InverseRowNorms(q.Rows, q.Cols, q.DequantizeRow) : null;
            return new LmHead(backend, new QuantizedLinear(backend, q), norms, tiedToEmbedding: false);
        }
        var w = weights.LmHead();
        if (!weights.Reader.Contains(name))
        {
            // Tied: the head is the embedding table. In process memory it is rearranged for the matmul kernels like any dense
            // layer, and the embedding gathers its rows from that same copy (DecoderStack), so the table is held once.
            if (weights.Reader is not ResidentCheckpointReader tiedResident) return new LmHead(backend, w, normHead, tiedToEmbedding: true);
            var preparedTable = backend.PrepareLinear(w);
            if (!ReferenceEquals(preparedTable, w)) tiedResident.Release(WeightMap.EmbeddingName);
            return new LmHead(backend, preparedTable, normHead, tiedToEmbedding: true);
        }
        var prepared = backend.PrepareLinear(w);
        if (weights.Reader is ResidentCheckpointReader resident && !ReferenceEquals(prepared, w)) resident.Release(name);
        return new LmHead(backend, prepared, normHead, ownsStorage: !ReferenceEquals(prepared, w));
    }

    // Dense layers over the backend's preferred layout. Only weights copied into process memory are rearranged (a new copy is
    // made, then the stored-layout copy of the checkpoint tensors is freed, so the model is held once); weights read through the
    // file mapping are about to be quantized at load or belong to a transform that reads them as stored.
    // biases[i] (null: none) goes with ws[i] unchanged: it is read per element by the bias kernel, not rearranged.
    private Linear[] Dense(Weight[] ws, string[] modules, Weight?[] biases)
    {
        if (weights.Reader is not ResidentCheckpointReader resident) return [.. ws.Select((w, i) => new Linear(backend, w, biases[i]))];
        var prepared = ws.Select(backend.PrepareLinear).ToArray();
        if (prepared.Zip(ws).All(p => !ReferenceEquals(p.First, p.Second)))
            foreach (var m in modules) resident.Release(m + ".weight");
        return [.. prepared.Select((w, i) => new Linear(backend, w, biases[i]))];
    }

    private QuantizedLinear Quantized(string module, int n, int k, int start = 0, int? count = null, string? name = null, Weight? bias = null)
    {
        var q = _quant!;
        var w = q.Method == QuantizationConfig.AwqMethod
            ? QuantizedCheckpoint.LoadAwq(weights, module, n, k, q.GroupSize, start, count ?? n, name ?? module)
            : QuantizedCheckpoint.LoadInt8(weights, module, n, k, start, count ?? n, name ?? module);
        return new QuantizedLinear(backend, w, bias);
    }
}
