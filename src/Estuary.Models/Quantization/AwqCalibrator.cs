// Runs calibration token windows through a float model with recording linears and returns per-layer activation statistics.
// Invariant: the model is restored (original linears) before returning, even on failure.
using Estuary.Models.Layers;
using Estuary.Tensors;

namespace Estuary.Models.Quantization;

/// <summary>Collects AWQ's activation statistics.</summary>
public static class AwqCalibrator
{
    /// <summary>
    /// Feeds <paramref name="samples"/> (each one window, positions from 0) through <paramref name="model"/>; keeps up to
    /// <paramref name="maxSampleRows"/> rows per linear input for the error evaluation. <paramref name="sampleDone"/> counts windows.
    /// </summary>
    public static LayerActivations[] Collect(CausalLm model, IReadOnlyList<int[]> samples, int maxSampleRows, IProgress<int>? sampleDone = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(samples);
        var c = model.Config;
        var backend = model.Backend;
        var result = new LayerActivations[model.Layers.Count];
        var saved = new List<Action>();
        try
        {
            for (int l = 0; l < model.Layers.Count; l++)
            {
                var a = model.Layers[l].Attention;
                var m = model.Layers[l].Mlp;
                var stats = new LayerActivations(new ActivationStats(a.QProj.InFeatures, maxSampleRows), new ActivationStats(a.OProj.InFeatures, maxSampleRows),
                    new ActivationStats(m.Gate.InFeatures, maxSampleRows), new ActivationStats(m.Down.InFeatures, maxSampleRows));
                result[l] = stats;
                ILinear q = a.QProj, o = a.OProj, g = m.Gate, d = m.Down;
                saved.Add(() => { a.QProj = q; a.OProj = o; m.Gate = g; m.Down = d; });
                a.QProj = new RecordingLinear(backend, q, stats.Qkv);
                a.OProj = new RecordingLinear(backend, o, stats.O);
                m.Gate = new RecordingLinear(backend, g, stats.GateUp);
                m.Down = new RecordingLinear(backend, d, stats.Down);
            }
            int longest = samples.Count == 0 ? 1 : samples.Max(s => s.Length);
            const int blockSize = 16;
            int numBlocks = (longest + blockSize - 1) / blockSize;
            using var kv = backend.AllocateKvCache(new KvCacheSpec(c.NumLayers, numBlocks, blockSize, c.NumKvHeads, c.HeadDim));
            var batch = new ForwardBatch(longest, 1, numBlocks, blockSize);
            for (int i = 0; i < numBlocks; i++) batch.BlockTables[i] = i;
            int done = 0;
            foreach (var ids in samples)
            {
                int n = ids.Length;
                batch.NumTokens = n;
                batch.NumSeqs = 1;
                batch.NumLogitsRows = 0;
                batch.QueryStarts[0] = 0;
                batch.QueryStarts[1] = n;
                batch.SeqLens[0] = n;
                for (int t = 0; t < n; t++)
                {
                    batch.TokenIds[t] = ids[t];
                    batch.Positions[t] = t;
                    batch.SlotMapping[t] = t;
                }
                model.Forward(batch, kv);
                sampleDone?.Report(++done);
            }
        }
        finally
        {
            foreach (var restore in saved) restore();
        }
        return result;
    }
}
