// A byte-level BPE tokenizer as tokenizer.json describes it (Llama 3, Qwen2, GPT-2 family): vocabulary, ranked merges,
// added tokens, normalization, pre-tokenizer and the ids the post-processor puts around a sequence.
// Invariant: immutable after TokenizerJsonReader built it; every id below Count has a token string.
using System.Text;

namespace Estuary.Tokenization;

internal sealed class ByteLevelBpeModel
{
    /// <summary>Token string of every id (the model's vocabulary in the byte-level alphabet, added tokens as written).</summary>
    public required string[] Tokens { get; init; }

    /// <summary>The BPE model's own vocabulary (added tokens excluded).</summary>
    public required Dictionary<string, int> Vocab { get; init; }

    /// <summary>Merges by (left id, right id): their rank (lower merges first) and the id of the merged token.</summary>
    public required Dictionary<long, (int Rank, int Merged)> Merges { get; init; }

    /// <summary>Whether a pre-tokenized word found whole in the vocabulary is taken as one token without merging.</summary>
    public required bool IgnoreMerges { get; init; }

    /// <summary>Id of the model's <c>unk_token</c>, or -1 (byte-level vocabularies cover every byte and need none).</summary>
    public required int UnkId { get; init; }

    public required AddedToken[] AddedTokens { get; init; }

    /// <summary>Unicode normalizations applied in order to the text between added tokens (none: the text as written).</summary>
    public required NormalizationForm[] Normalizations { get; init; }

    public required ByteLevelPreTokenizer PreTokenizer { get; init; }

    /// <summary>Ids the post-processor puts before and after a single sequence (Llama 3: <c>&lt;|begin_of_text|&gt;</c> before).</summary>
    public required int[] PrefixIds { get; init; }

    public required int[] SuffixIds { get; init; }

    /// <summary>Id of the byte-level character for each byte value (every byte has one; checked at load).</summary>
    public required int[] ByteIds { get; init; }

    public int Count => Tokens.Length;

    /// <summary>Merge key of an ordered pair of ids.</summary>
    public static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;
}
