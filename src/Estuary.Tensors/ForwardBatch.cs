// The flat description of one engine step handed to a model: T tokens from S sequences (prefill chunks and decodes mixed).
// Invariant: tokens of sequence s are rows QueryStarts[s]..QueryStarts[s+1]-1, in position order; arrays are sized to capacity and reused.
namespace Estuary.Tensors;

/// <summary>One forward step's inputs, flattened (nano-vllm's "prepare" output, passed explicitly).</summary>
public sealed class ForwardBatch
{
    /// <summary>Allocates arrays for at most <paramref name="maxTokens"/> tokens and <paramref name="maxSeqs"/> sequences.</summary>
    public ForwardBatch(int maxTokens, int maxSeqs, int maxBlocksPerSeq, int blockSize)
    {
        if (maxTokens <= 0 || maxSeqs <= 0 || maxBlocksPerSeq <= 0 || blockSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxTokens), "ForwardBatch capacities must be positive");
        TokenIds = new int[maxTokens];
        Positions = new int[maxTokens];
        SlotMapping = new int[maxTokens];
        QueryStarts = new int[maxSeqs + 1];
        SeqLens = new int[maxSeqs];
        BlockTables = new int[maxSeqs * maxBlocksPerSeq];
        LogitsRows = new int[Math.Max(maxTokens, maxSeqs)]; // a prompt's every row when its log-probabilities are asked for
        LoraIds = new int[maxTokens];
        MaxBlocksPerSeq = maxBlocksPerSeq;
        BlockSize = blockSize;
    }

    /// <summary>T: tokens in this step.</summary>
    public int NumTokens { get; set; }

    /// <summary>S: sequences in this step.</summary>
    public int NumSeqs { get; set; }

    /// <summary>Number of entries of <see cref="LogitsRows"/> in use.</summary>
    public int NumLogitsRows { get; set; }

    /// <summary>[T] token ids.</summary>
    public int[] TokenIds { get; }

    /// <summary>[T] absolute position of each token in its sequence.</summary>
    public int[] Positions { get; }

    /// <summary>[T] KV-cache slot of each token: block · B + offset.</summary>
    public int[] SlotMapping { get; }

    /// <summary>[S+1] first row of each sequence's tokens (cu_seqlens_q).</summary>
    public int[] QueryStarts { get; }

    /// <summary>[S] context length of each sequence after this step (cached + new tokens).</summary>
    public int[] SeqLens { get; }

    /// <summary>[S, MaxBlocksPerSeq] block ids of each sequence, row-major.</summary>
    public int[] BlockTables { get; }

    /// <summary>Row stride of <see cref="BlockTables"/>.</summary>
    public int MaxBlocksPerSeq { get; }

    /// <summary>B: tokens per KV block.</summary>
    public int BlockSize { get; }

    /// <summary>[S'] rows of the hidden state whose logits are sampled (the last token of sequences that finish their prompt or decode).</summary>
    public int[] LogitsRows { get; }

    /// <summary>[T] adapter of each token's sequence: 0 = the base model, k = the k-th loaded LoRA adapter.</summary>
    public int[] LoraIds { get; }

    /// <summary>Block table of sequence <paramref name="s"/>.</summary>
    public ReadOnlySpan<int> BlockTable(int s) => BlockTables.AsSpan(s * MaxBlocksPerSeq, MaxBlocksPerSeq);
}
