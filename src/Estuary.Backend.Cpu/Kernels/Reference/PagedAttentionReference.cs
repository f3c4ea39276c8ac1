// Scalar twin of PagedAttentionKernel: per (row, head) causal softmax attention over keys 0..pos (or the sliding window's last W)
// read through the block table.
using Estuary.Tensors;

namespace Estuary.Backend.Cpu.Kernels.Reference;

/// <summary>Obviously-correct paged attention for tests (double accumulation).</summary>
internal static class PagedAttentionReference
{
    /// <summary>o[T, Hq·D] from q[T, Hq·D] and the layer's K cache [Hkv, NumBlocks, D, B] and V cache [Hkv, NumBlocks, B, D].</summary>
    public static void Run(ReadOnlySpan<float> q, float[] kCache, float[] vCache, ForwardBatch b, AttentionParams p, Span<float> o)
    {
        int d = p.HeadDim, hq = p.NumHeads, hkv = p.NumKvHeads, bs = b.BlockSize, numBlocks = kCache.Length / (hkv * d * bs);
        for (int s = 0; s < b.NumSeqs; s++)
        {
            for (int row = b.QueryStarts[s]; row < b.QueryStarts[s + 1]; row++)
            {
                int pos = b.Positions[row];
                int first = p.SlidingWindow > 0 ? Math.Max(0, pos - p.SlidingWindow + 1) : 0; // keys before it are outside the window
                for (int h = 0; h < hq; h++)
                {
                    int kvh = h / (hq / hkv);
                    var scores = new double[pos + 1];
                    double max = double.NegativeInfinity;
                    for (int j = first; j <= pos; j++)
                    {
                        int slot = b.BlockTables[s * b.MaxBlocksPerSeq + j / bs] * bs + j % bs;
                        double dot = 0;
                        for (int i = 0; i < d; i++) dot += (double)q[(row * hq + h) * d + i] * kCache[((kvh * numBlocks + slot / bs) * d + i) * bs + slot % bs];
                        scores[j] = dot * p.Scale + (p.AlibiSlopes is { } a ? a[h] * (double)j : 0);
                        max = Math.Max(max, scores[j]);
                    }
                    double sum = 0;
                    for (int j = first; j <= pos; j++) sum += scores[j] = Math.Exp(scores[j] - max);
                    for (int i = 0; i < d; i++)
                    {
                        double acc = 0;
                        for (int j = first; j <= pos; j++)
                        {
                            int slot = b.BlockTables[s * b.MaxBlocksPerSeq + j / bs] * bs + j % bs;
                            acc += scores[j] * vCache[((kvh * numBlocks + slot / bs) * bs + slot % bs) * d + i];
                        }
                        o[(row * hq + h) * d + i] = (float)(acc / sum);
                    }
                }
            }
        }
    }
}
