// Owns the model, its KV-cache memory and the step buffers; runs one forward and returns logits rows on the host.
// Invariant: buffers are allocated once at construction (capacity = max batched tokens / max sequences) and reused every step.
using Estuary.Models;
using Estuary.Tensors;

namespace Estuary.Engine.Execution;

/// <summary>Executes forward batches.</summary>
internal sealed class ModelRunner : IDisposable
{
    private readonly ICausalLm _model;
    private readonly IKvCacheStorage _kvCache;
    private readonly DeviceTensor _gathered; // [S, H]
    private readonly DeviceTensor _logits;   // [S, V]
    private readonly float[] _hostLogits;    // [S, V]

    public ModelRunner(ICausalLm model, KvCacheSpec kvSpec, int maxNumSeqs)
    {
        _model = model;
        _kvCache = model.Backend.AllocateKvCache(kvSpec);
        var c = model.Config;
        _gathered = model.Backend.Allocate(maxNumSeqs, c.HiddenSize);
        _logits = model.Backend.Allocate(maxNumSeqs, c.VocabSize);
        _hostLogits = new float[maxNumSeqs * c.VocabSize];
    }

    /// <summary>V.</summary>
    public int VocabSize => _model.Config.VocabSize;

    /// <summary>Runs the model on <paramref name="batch"/>; returns logits [NumLogitsRows, V] (valid until the next call).</summary>
    public Memory<float> Execute(ForwardBatch batch)
    {
        var hidden = _model.Forward(batch, _kvCache);                                   // [T, H]
        int s = batch.NumLogitsRows;
        if (s == 0) return Memory<float>.Empty;
        var gathered = _gathered.SliceRows(0, s);                                       // [S, H]
        _model.Backend.GatherRows(hidden, batch.LogitsRows.AsSpan(0, s), gathered);
        var logits = _logits.SliceRows(0, s);                                           // [S, V]
        _model.ComputeLogits(gathered, logits);
        var host = _hostLogits.AsMemory(0, s * VocabSize);
        _model.Backend.Download(logits, host.Span);
        return host;
    }

    public void Dispose() => _kvCache.Dispose();
}
