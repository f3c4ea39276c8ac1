// Builds a decoder block's linear layers from a checkpoint: dense weights as stored, or quantized modules when config.json carries a
// quantization_config (AWQ GEMM, our INT8). Invariant: the model code gets ILinears either way and never branches on quantization.
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
            return (new Linear(backend, q), new Linear(backend, k), new Linear(backend, v));
        }
        if (config.FusedQkv)
        {
            string m = weights.Module(layer, LinearRole.Qkv);
            int n = QDim + 2 * KvDim;
            return (Quantized(m, n, H, 0, QDim, m + "[q]"), Quantized(m, n, H, QDim, KvDim, m + "[k]"),
                Quantized(m, n, H, QDim + KvDim, KvDim, m + "[v]"));
        }
        return (Quantized(weights.Module(layer, LinearRole.Q), QDim, H), Quantized(weights.Module(layer, LinearRole.K), KvDim, H),
            Quantized(weights.Module(layer, LinearRole.V), KvDim, H));
    }

    /// <summary>[H, Hq·D].</summary>
    public ILinear OProj(int layer) => _quant is null ? new Linear(backend, weights.OProj(layer)) : Quantized(weights.Module(layer, LinearRole.O), H, QDim);

    /// <summary>[I, H].</summary>
    public ILinear Gate(int layer) => _quant is null ? new Linear(backend, weights.GateProj(layer)) : Quantized(weights.Module(layer, LinearRole.Gate), I, H);

    /// <summary>[I, H].</summary>
    public ILinear Up(int layer) => _quant is null ? new Linear(backend, weights.UpProj(layer)) : Quantized(weights.Module(layer, LinearRole.Up), I, H);

    /// <summary>[H, I].</summary>
    public ILinear Down(int layer) => _quant is null ? new Linear(backend, weights.DownProj(layer)) : Quantized(weights.Module(layer, LinearRole.Down), H, I);

    private QuantizedLinear Quantized(string module, int n, int k, int start = 0, int? count = null, string? name = null)
    {
        var q = _quant!;
        var w = q.Method == QuantizationConfig.AwqMethod
            ? QuantizedCheckpoint.LoadAwq(weights, module, n, k, q.GroupSize, start, count ?? n, name ?? module)
            : QuantizedCheckpoint.LoadInt8(weights, module, n, k, start, count ?? n, name ?? module);
        return new QuantizedLinear(backend, w);
    }
}
