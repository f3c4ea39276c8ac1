// The decoder-only transformer assembled from layers: embedding → blocks → final norm, and the LM head.
// Invariant: scratch buffers are allocated once for the largest step seen and reused as row views; no allocation per step otherwise.
using Estuary.Models.Config;
using Estuary.Models.Layers;
using Estuary.Tensors;

namespace Estuary.Models;

/// <summary>A decoder-only causal LM (Llama, Baichuan2).</summary>
public sealed class CausalLm : ICausalLm
{
    private readonly IDisposable? _owner;
    private Workspace? _workspace;

    /// <summary>Assembles the model; <paramref name="owner"/> (the checkpoint) is disposed with it.</summary>
    public CausalLm(ModelConfig config, IBackend backend, Embedding embedding, DecoderLayer[] layers, RmsNorm finalNorm,
        LmHead head, IDisposable? owner)
    {
        Config = config;
        Backend = backend;
        Embedding = embedding;
        Layers = layers;
        FinalNorm = finalNorm;
        Head = head;
        _owner = owner;
    }

    /// <inheritdoc />
    public ModelConfig Config { get; }
    /// <inheritdoc />
    public IBackend Backend { get; }
    /// <summary>Token embedding.</summary>
    public Embedding Embedding { get; }
    /// <summary>Decoder blocks.</summary>
    public IReadOnlyList<DecoderLayer> Layers { get; }
    /// <summary>Final norm.</summary>
    public RmsNorm FinalNorm { get; }
    /// <summary>Output head.</summary>
    public LmHead Head { get; }

    /// <inheritdoc />
    public long WeightBytes
    {
        get
        {
            long total = Embedding.Table.ByteLength + FinalNorm.Gamma.ByteLength;
            if (!Head.IsTiedToEmbedding) total += Head.Linear.WeightBytes;
            foreach (var l in Layers)
            {
                total += l.InputNorm.Gamma.ByteLength + l.PostAttentionNorm.Gamma.ByteLength;
                total += l.Attention.QProj.WeightBytes + l.Attention.KProj.WeightBytes + l.Attention.VProj.WeightBytes + l.Attention.OProj.WeightBytes;
                total += (l.Attention.QNorm?.Gamma.ByteLength ?? 0) + (l.Attention.KNorm?.Gamma.ByteLength ?? 0);
                total += l.Mlp.Gate.WeightBytes + l.Mlp.Up.WeightBytes + l.Mlp.Down.WeightBytes;
            }
            return total;
        }
    }

    /// <inheritdoc />
    public DeviceTensor Forward(ForwardBatch batch, IKvCacheStorage kvCache)
    {
        int t = batch.NumTokens;
        if (t <= 0) throw new ArgumentException("a forward batch needs at least one token", nameof(batch));
        var ws = EnsureWorkspace(t);
        var x = ws.Residual.SliceRows(0, t);                              // [T, H]
        var scratch = ws.Scratch(t);
        Embedding.Forward(batch.TokenIds.AsSpan(0, t), x);
        for (int l = 0; l < Layers.Count; l++)
            Layers[l].Forward(x, new KvLayer(kvCache, l), batch, scratch);
        var hidden = ws.Hidden.SliceRows(0, t);                           // [T, H]
        FinalNorm.Forward(x, hidden);
        return hidden;
    }

    /// <inheritdoc />
    public void ComputeLogits(DeviceTensor hidden, DeviceTensor logits) => Head.Forward(hidden, logits); // [S, H] → [S, V]

    private Workspace EnsureWorkspace(int numTokens)
    {
        if (_workspace == null || _workspace.Capacity < numTokens)
            _workspace = new Workspace(Backend, Config, Math.Max(numTokens, _workspace?.Capacity * 2 ?? 0));
        return _workspace;
    }

    /// <inheritdoc />
    public void Dispose() => _owner?.Dispose();

    // Activation buffers sized for Capacity tokens; each step takes row views of them.
    private sealed class Workspace(IBackend backend, ModelConfig c, int capacity)
    {
        public int Capacity { get; } = capacity;
        public DeviceTensor Residual { get; } = backend.Allocate(capacity, c.HiddenSize);                 // [T, H]
        public DeviceTensor Hidden { get; } = backend.Allocate(capacity, c.HiddenSize);                   // [T, H]
        private readonly DeviceTensor _normed = backend.Allocate(capacity, c.HiddenSize);                 // [T, H]
        private readonly DeviceTensor _delta = backend.Allocate(capacity, c.HiddenSize);                  // [T, H]
        private readonly DeviceTensor _gate = backend.Allocate(capacity, c.IntermediateSize);             // [T, I]
        private readonly DeviceTensor _up = backend.Allocate(capacity, c.IntermediateSize);               // [T, I]
        private readonly DeviceTensor _act = backend.Allocate(capacity, c.IntermediateSize);              // [T, I]
        private readonly DeviceTensor _q = backend.Allocate(capacity, c.NumHeads * c.HeadDim);           // [T, Hq·D]
        private readonly DeviceTensor _k = backend.Allocate(capacity, c.NumKvHeads * c.HeadDim);         // [T, Hkv·D]
        private readonly DeviceTensor _v = backend.Allocate(capacity, c.NumKvHeads * c.HeadDim);         // [T, Hkv·D]
        private readonly DeviceTensor _attn = backend.Allocate(capacity, c.NumHeads * c.HeadDim);        // [T, Hq·D]

        public LayerScratch Scratch(int t) => new(_normed.SliceRows(0, t), _delta.SliceRows(0, t), _gate.SliceRows(0, t),
            _up.SliceRows(0, t), _act.SliceRows(0, t),
            new AttentionScratch(_q.SliceRows(0, t), _k.SliceRows(0, t), _v.SliceRows(0, t), _attn.SliceRows(0, t)));
    }
}
