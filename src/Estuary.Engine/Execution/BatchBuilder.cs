// Turns a SchedulerOutput into the flat ForwardBatch arrays: token ids, positions, slot mapping, block tables, logits rows.
// Invariant: a sequence gets a logits row when this step computes its last known token (a finished prefill or a decode), one
// more per draft token after it (speculative decoding: the row at draft j verifies draft j + 1, the last one yields a bonus
// token), and one per prompt position whose next token still lacks its prompt log-probability; rows of a sequence are in
// position order.
using Estuary.Engine.Scheduling;
using Estuary.Tensors;

namespace Estuary.Engine.Execution;

/// <summary>Fills a reusable <see cref="ForwardBatch"/>.</summary>
internal sealed class BatchBuilder(ForwardBatch batch)
{
    /// <summary>The batch being filled.</summary>
    public ForwardBatch Batch { get; } = batch;

    /// <summary>For each logits row, the index into the scheduled list it belongs to.</summary>
    public int[] LogitsOwners { get; } = new int[batch.LogitsRows.Length];

    /// <summary>For each logits row, the position of the token it was computed at (it predicts position + 1).</summary>
    public int[] LogitsPositions { get; } = new int[batch.LogitsRows.Length];

    /// <summary>For each logits row: -1 for a prompt row (it scores the prompt), else j, the row sampling token NumTokens + j.</summary>
    public int[] LogitsSampleIndex { get; } = new int[batch.LogitsRows.Length];

    /// <summary>Fills the batch for <paramref name="output"/>.</summary>
    public ForwardBatch Build(SchedulerOutput output)
    {
        var b = Batch;
        int blockSize = b.BlockSize;
        int t = 0, numLogits = 0;
        var scheduled = output.Scheduled;
        if (scheduled.Count > b.SeqLens.Length) throw new InvalidOperationException($"step has {scheduled.Count} sequences; batch capacity is {b.SeqLens.Length}");
        if (output.NumBatchedTokens > b.TokenIds.Length) throw new InvalidOperationException($"step has {output.NumBatchedTokens} tokens; batch capacity is {b.TokenIds.Length}");
        for (int s = 0; s < scheduled.Count; s++)
        {
            var (seq, numNew) = scheduled[s];
            b.QueryStarts[s] = t;
            int start = seq.NumComputedTokens;
            int known = seq.NumTokens; // positions from here on hold draft tokens
            for (int i = 0; i < numNew; i++)
            {
                int pos = start + i;
                b.TokenIds[t] = pos < known ? seq.TokenAt(pos) : seq.Draft[pos - known];
                b.Positions[t] = pos;
                b.SlotMapping[t] = seq.Blocks[pos / blockSize].Id * blockSize + pos % blockSize;
                b.LoraIds[t] = seq.LoraId;
                t++;
            }
            b.SeqLens[s] = start + numNew;
            var table = b.BlockTables.AsSpan(s * b.MaxBlocksPerSeq, b.MaxBlocksPerSeq);
            int numBlocks = Math.Min(seq.Blocks.Count, b.MaxBlocksPerSeq);
            for (int i = 0; i < numBlocks; i++) table[i] = seq.Blocks[i].Id;
            table[numBlocks..].Fill(-1);
            if (seq.NeedsPromptLogprobs)
            {
                // Logits at position p score prompt token p + 1; the last prompt position's row is the sampling row below.
                int from = Math.Max(start, seq.PromptLogprobs!.Count), to = Math.Min(start + numNew, seq.NumPromptTokens - 1);
                for (int p = from; p < to; p++) AddRow(b.QueryStarts[s] + p - start, s, p, -1, ref numLogits);
            }
            if (start + numNew == known + seq.Draft.Count)
                for (int j = 0; j <= seq.Draft.Count; j++) AddRow(t - 1 - seq.Draft.Count + j, s, known - 1 + j, j, ref numLogits);
        }
        b.QueryStarts[scheduled.Count] = t;
        b.NumTokens = t;
        b.NumSeqs = scheduled.Count;
        b.NumLogitsRows = numLogits;
        return b;
    }

    private void AddRow(int row, int owner, int position, int sampleIndex, ref int numLogits)
    {
        Batch.LogitsRows[numLogits] = row;
        LogitsOwners[numLogits] = owner;
        LogitsPositions[numLogits] = position;
        LogitsSampleIndex[numLogits] = sampleIndex;
        numLogits++;
    }
}
