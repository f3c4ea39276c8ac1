// Owns the model, its KV-cache memory and the step buffers; runs one forward, then hands out logits rows on the host in slices.
// Invariant: buffers are allocated once at construction (one logits row per sequence) and reused every step; a step with more
// rows (prompt log-probabilities) is read in several slices, so memory never grows with the prompt.
using Estuary.Models;
using Estuary.Tensors;

namespace Estuary.Engine.Execution;

/// <summary>Executes forward batches.</summary>
internal sealed class ModelRunner : IDisposable
{
    private readonly ICausalLm _model;
    private readonly IKvCacheStorage _kvCache;
    private readonly DeviceTensor _gathered; // [R, H]
    private readonly DeviceTensor _logits;   // [R, V]
    private readonly float[] _hostLogits;    // [R, V]
    private DeviceTensor? _hidden;           // [T, H] of the last forward

    public ModelRunner(ICausalLm model, KvCacheSpec kvSpec, int maxNumSeqs)
    {
        _model = model;
        _kvCache = model.Backend.AllocateKvCache(kvSpec);
        var c = model.Config;
        MaxLogitsRows = maxNumSeqs;
        _gathered = model.Backend.Allocate(maxNumSeqs, c.HiddenSize);
        _logits = model.Backend.Allocate(maxNumSeqs, c.VocabSize);
        _hostLogits = new float[maxNumSeqs * c.VocabSize];
    }

    /// <summary>V.</summary>
    public int VocabSize => _model.Config.VocabSize;

    /// <summary>R: the most logits rows one <see cref="Logits"/> call returns.</summary>
    public int MaxLogitsRows { get; }

    /// <summary>Runs the model on <paramref name="batch"/>, writing its K/V; its logits rows are then read with <see cref="Logits"/>.</summary>
    public void Forward(ForwardBatch batch) => _hidden = _model.Forward(batch, _kvCache); // [T, H]

    /// <summary>Logits [count, V] of rows <paramref name="first"/> … of the last forward's LogitsRows (count ≤ R; valid until the next call).</summary>
    public Memory<float> Logits(ForwardBatch batch, int first, int count)
    {
        if (_hidden is null) throw new InvalidOperationException("Logits before Forward");
        if (count <= 0 || count > MaxLogitsRows || first < 0 || first + count > batch.NumLogitsRows)
            throw new ArgumentOutOfRangeException(nameof(count), $"rows {first}..{first + count} of {batch.NumLogitsRows}, at most {MaxLogitsRows} at once");
        var gathered = _gathered.SliceRows(0, count);                                       // [count, H]
        _model.Backend.GatherRows(_hidden, batch.LogitsRows.AsSpan(first, count), gathered);
        var logits = _logits.SliceRows(0, count);                                           // [count, V]
        _model.ComputeLogits(gathered, logits);
        var host = _hostLogits.AsMemory(0, count * VocabSize);
        _model.Backend.Download(logits, host.Span);
        return host;
    }

    public void Dispose() => _kvCache.Dispose();
}
