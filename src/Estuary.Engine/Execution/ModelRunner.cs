// Owns the model, its KV-cache memory and the step buffers; runs one forward and returns logits rows on the host.
// Invariant: buffers are allocated at construction for one logits row per sequence and reused every step; a step that asks for
// more rows (prompt log-probabilities) grows them once to that size.
using Estuary.Models;
using Estuary.Tensors;

namespace Estuary.Engine.Execution;

/// <summary>Executes forward batches.</summary>
internal sealed class ModelRunner : IDisposable
{
    private readonly ICausalLm _model;
    private readonly IKvCacheStorage _kvCache;
    private DeviceTensor _gathered; // [S, H]
    private DeviceTensor _logits;   // [S, V]
    private float[] _hostLogits;    // [S, V]
    private int _rowCapacity;

    public ModelRunner(ICausalLm model, KvCacheSpec kvSpec, int maxNumSeqs)
    {
        _model = model;
        _kvCache = model.Backend.AllocateKvCache(kvSpec);
        var c = model.Config;
        _gathered = model.Backend.Allocate(maxNumSeqs, c.HiddenSize);
        _logits = model.Backend.Allocate(maxNumSeqs, c.VocabSize);
        _hostLogits = new float[maxNumSeqs * c.VocabSize];
        _rowCapacity = maxNumSeqs;
    }

    /// <summary>V.</summary>
    public int VocabSize => _model.Config.VocabSize;

    /// <summary>Runs the model on <paramref name="batch"/>; returns logits [NumLogitsRows, V] (valid until the next call).</summary>
    public Memory<float> Execute(ForwardBatch batch)
    {
        var hidden = _model.Forward(batch, _kvCache);                                   // [T, H]
        int s = batch.NumLogitsRows;
        if (s == 0) return Memory<float>.Empty;
        if (s > _rowCapacity) GrowRows(s);
        var gathered = _gathered.SliceRows(0, s);                                       // [S, H]
        _model.Backend.GatherRows(hidden, batch.LogitsRows.AsSpan(0, s), gathered);
        var logits = _logits.SliceRows(0, s);                                           // [S, V]
        _model.ComputeLogits(gathered, logits);
        var host = _hostLogits.AsMemory(0, s * VocabSize);
        _model.Backend.Download(logits, host.Span);
        return host;
    }

    private void GrowRows(int rows)
    {
        var c = _model.Config;
        _gathered = _model.Backend.Allocate(rows, c.HiddenSize);
        _logits = _model.Backend.Allocate(rows, c.VocabSize);
        _hostLogits = new float[(long)rows * c.VocabSize <= Array.MaxLength ? rows * c.VocabSize
            : throw new InvalidOperationException($"{rows} logits rows of {c.VocabSize} do not fit one array; lower max_num_batched_tokens")];
        _rowCapacity = rows;
    }

    public void Dispose() => _kvCache.Dispose();
}
