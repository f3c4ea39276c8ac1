// Runs a loaded model over one sequence (teacher forcing) through the real paged-KV forward path, returning logits at every position.
using Estuary.Backend.Cpu;
using Estuary.Models;
using Estuary.Models.Quantization;
using Estuary.Tensors;

namespace Estuary.Models.Tests.Architectures;

internal sealed class ModelHarness : IDisposable
{
    private const int BlockSize = 4;

    public ModelHarness(string modelDir, int? maxPositions = null, QuantizationMode quantization = QuantizationMode.None)
    {
        Backend = new CpuBackend();
        Model = ModelLoader.Load(modelDir, Backend, quantization: quantization, maxPositions: maxPositions);
    }

    public CpuBackend Backend { get; }
    public CausalLm Model { get; }

    /// <summary>Logits [n, V] for every position of <paramref name="ids"/>, computed in chunks of <paramref name="chunk"/> tokens
    /// with the KV cache carried between chunks; blocks are assigned in reverse order so the block table is non-trivial.</summary>
    public float[][] AllLogits(int[] ids, int chunk = int.MaxValue)
    {
        int n = ids.Length;
        int numBlocks = (n + BlockSize - 1) / BlockSize;
        var c = Model.Config;
        using var kv = Backend.AllocateKvCache(new KvCacheSpec(c.NumLayers, numBlocks + 2, BlockSize, c.NumKvHeads, c.HeadDim));
        var blocks = new int[numBlocks];
        for (int i = 0; i < numBlocks; i++) blocks[i] = numBlocks + 1 - i; // scattered, skipping block 0
        var result = new float[n][];
        for (int start = 0; start < n; start += chunk)
        {
            int count = Math.Min(chunk, n - start);
            var b = new ForwardBatch(count, 1, numBlocks, BlockSize) { NumTokens = count, NumSeqs = 1, NumLogitsRows = count };
            for (int t = 0; t < count; t++)
            {
                int pos = start + t;
                b.TokenIds[t] = ids[pos];
                b.Positions[t] = pos;
                b.SlotMapping[t] = blocks[pos / BlockSize] * BlockSize + pos % BlockSize;
            }
            b.QueryStarts[0] = 0;
            b.QueryStarts[1] = count;
            b.SeqLens[0] = start + count;
            blocks.CopyTo(b.BlockTables, 0);
            var logits = Backend.Allocate(count, c.VocabSize);
            var hidden = Model.Forward(b, kv);
            Model.ComputeLogits(hidden, logits);
            var host = new float[count * c.VocabSize];
            Backend.Download(logits, host);
            for (int t = 0; t < count; t++) result[start + t] = host.AsSpan(t * c.VocabSize, c.VocabSize).ToArray();
        }
        return result;
    }

    public void Dispose()
    {
        Model.Dispose();
        Backend.Dispose();
    }
}
