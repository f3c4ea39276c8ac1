// Perplexity of a model on a token stream with the fixtures' protocol: non-overlapping windows, each run alone from position 0,
// every token but a window's first scored, log-softmax in float, NLL accumulated in double.
using Estuary.Models;
using Estuary.Tensors;

namespace Estuary.Engine.Evaluation;

/// <summary>Computes perplexity through the same forward path the engine uses (paged KV cache, one sequence per window).</summary>
public static class PerplexityEvaluator
{
    /// <summary>
    /// Evaluates <paramref name="ids"/> in windows of <paramref name="window"/> tokens with the KV cache stored as
    /// <paramref name="kvCacheDType"/>; <paramref name="windowDone"/> counts windows.
    /// </summary>
    public static PerplexityResult Evaluate(ICausalLm model, IReadOnlyList<int> ids, int window, IProgress<int>? windowDone = null,
        DType kvCacheDType = DType.F32)
    {
        if (window < 2) throw new ArgumentOutOfRangeException(nameof(window), "window must be at least 2 tokens");
        if (window > model.Config.MaxPositions) throw new ArgumentOutOfRangeException(nameof(window), $"window {window} exceeds the model's {model.Config.MaxPositions} positions");
        if (ids.Count < 2) throw new ArgumentException("the text must encode to at least 2 tokens", nameof(ids));
        const int blockSize = 16;
        int numBlocks = (window + blockSize - 1) / blockSize;
        var c = model.Config;
        var backend = model.Backend;
        using var kv = backend.AllocateKvCache(new KvCacheSpec(c.NumLayers, numBlocks, blockSize, c.NumKvHeads, c.HeadDim, kvCacheDType));
        var batch = new ForwardBatch(window, window, numBlocks, blockSize);
        for (int i = 0; i < numBlocks; i++) batch.BlockTables[i] = i;
        var logits = backend.Allocate(window, c.VocabSize);          // [T, V]
        var host = new float[window * c.VocabSize];
        double nll = 0;
        long scored = 0;
        int windows = 0;
        for (int start = 0; start < ids.Count; start += window)
        {
            int n = Math.Min(window, ids.Count - start);
            if (n < 2) break; // a 1-token window scores nothing
            batch.NumTokens = n;
            batch.NumSeqs = 1;
            batch.NumLogitsRows = n - 1;
            batch.QueryStarts[0] = 0;
            batch.QueryStarts[1] = n;
            batch.SeqLens[0] = n;
            for (int t = 0; t < n; t++)
            {
                batch.TokenIds[t] = ids[start + t];
                batch.Positions[t] = t;
                batch.SlotMapping[t] = t;
            }
            var hidden = model.Forward(batch, kv);                    // [n, H]
            var rows = logits.SliceRows(0, n - 1);                     // [n-1, V]
            model.ComputeLogits(hidden.SliceRows(0, n - 1), rows);
            backend.Download(rows, host.AsSpan(0, (n - 1) * c.VocabSize));
            for (int t = 0; t < n - 1; t++)
                nll -= LogSoftmaxAt(host.AsSpan(t * c.VocabSize, c.VocabSize), ids[start + t + 1]);
            scored += n - 1;
            windows++;
            windowDone?.Report(windows);
        }
        double mean = nll / scored;
        return new PerplexityResult(Math.Exp(mean), mean, windows, scored, ids.Count);
    }

    private static double LogSoftmaxAt(ReadOnlySpan<float> row, int target)
    {
        float max = float.NegativeInfinity;
        foreach (var v in row) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in row) sum += Math.Exp(v - max);
        return row[target] - max - Math.Log(sum);
    }
}
