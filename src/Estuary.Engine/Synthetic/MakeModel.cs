// Composition entry point for synthetic checkpoints: random weights and configs (Models) plus a synthetic tokenizer.model (Tokenization).
// Invariant: the folder gets a tokenizer whose vocabulary size equals the model's vocab_size, and appears only complete (the tokenizer
// is written into the folder being built, before RandomModelWriter renames it into place).
using Estuary.Models.Synthetic;
using Estuary.Tensors;
using Estuary.Tokenization.Writing;

namespace Estuary.Engine.Synthetic;

/// <summary>Writes complete random-weight model folders (weights, configs, tokenizer) at named shapes, for benchmarking.</summary>
public static class MakeModel
{
    /// <summary>
    /// Writes the preset <paramref name="shapeName"/> (see <see cref="ModelShapes.Names"/>) with random weights stored as
    /// <paramref name="dtype"/> ("f32"/"float32", "f16"/"float16", "bf16"/"bfloat16") into <paramref name="outDir"/>, with the
    /// Hugging Face configs of <see cref="RandomModelWriter.Write"/> and a synthetic SentencePiece <c>tokenizer.model</c>
    /// (<see cref="SyntheticVocabulary"/>) of the model's vocabulary size. Returns the shape written.
    /// </summary>
    /// <param name="shapeName">Preset name (case-insensitive).</param>
    /// <param name="dtype">Stored weight type.</param>
    /// <param name="outDir">Output folder; created if missing.</param>
    /// <param name="seed">Random seed; the same arguments write byte-identical files.</param>
    /// <param name="overwrite">Replace the model files in a non-empty folder instead of refusing it.</param>
    /// <param name="progress">Receives (tensors written, tensor count).</param>
    /// <param name="maxShardBytes">Largest safetensors shard before the weights are split (Hugging Face's 5 GB by default).</param>
    /// <exception cref="ArgumentException">unknown shape (the message lists the valid names) or unsupported dtype.</exception>
    /// <exception cref="IOException"><paramref name="outDir"/> is not empty and <paramref name="overwrite"/> is false, is a file or lies
    /// under one, or writing failed (the folder is then as it was).</exception>
    public static ModelShape Run(string shapeName, string dtype, string outDir, int seed, bool overwrite,
                                 IProgress<(int Done, int Total)>? progress = null, long maxShardBytes = RandomModelWriter.DefaultMaxShardBytes)
    {
        ArgumentNullException.ThrowIfNull(dtype);
        var shape = ModelShapes.Get(shapeName);
        DType type;
        try
        {
            type = DTypeInfo.Parse(dtype);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"unsupported dtype '{dtype}' (use f32, f16 or bf16)", nameof(dtype), e);
        }
        RandomModelWriter.Write(shape, type, outDir, seed, maxShardBytes, progress, overwrite,
            dir => SentencePieceModelWriter.Write(Path.Combine(dir, "tokenizer.model"), SyntheticVocabulary.Build(shape.VocabSize)));
        return shape;
    }
}
