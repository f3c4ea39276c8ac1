// Composition entry point for synthetic checkpoints: random weights and configs (Models) plus a synthetic tokenizer (Tokenization):
// a SentencePiece tokenizer.model, or a byte-level tokenizer.json with its configs for the shapes that ask for one.
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
    /// Hugging Face configs of <see cref="RandomModelWriter.Write"/> and the shape's synthetic tokenizer of the model's vocabulary
    /// size: a SentencePiece <c>tokenizer.model</c> (<see cref="SyntheticVocabulary"/>) or, for the Llama 3 shapes, a byte-level
    /// <c>tokenizer.json</c> with its configs and chat template (<see cref="SyntheticByteLevelTokenizer"/>). Returns the shape written.
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
        var shape = ModelShapes.Get(shapeName);
        Run(shape, dtype, outDir, seed, overwrite, progress, maxShardBytes);
        return shape;
    }

    /// <summary>
    /// Writes <paramref name="shape"/> (a preset or a variant of one, e.g. a tiny Llama with a byte-level tokenizer) as the preset
    /// overload writes a preset: random weights, configs and the tokenizer its <see cref="ModelShape.Tokenizer"/> names.
    /// </summary>
    /// <exception cref="ArgumentException">unsupported dtype, or the shape does not make a valid model folder (see
    /// <see cref="RandomModelWriter.Write"/>).</exception>
    /// <exception cref="IOException">as for the preset overload.</exception>
    public static void Run(ModelShape shape, string dtype, string outDir, int seed, bool overwrite,
                           IProgress<(int Done, int Total)>? progress = null, long maxShardBytes = RandomModelWriter.DefaultMaxShardBytes)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(dtype);
        DType type;
        try
        {
            type = DTypeInfo.Parse(dtype);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"unsupported dtype '{dtype}' (use f32, f16 or bf16)", nameof(dtype), e);
        }
        Action<string> writeTokenizer = shape.Tokenizer switch
        {
            SyntheticTokenizer.ByteLevel => dir => SyntheticByteLevelTokenizer.Write(dir, shape.VocabSize, shape.MaxPositionEmbeddings ?? 4096),
            SyntheticTokenizer.Qwen => dir => SyntheticQwenTokenizer.Write(dir, shape.Family == ModelFamily.Qwen3, shape.MaxPositionEmbeddings ?? 32768),
            _ => dir => SentencePieceModelWriter.Write(Path.Combine(dir, "tokenizer.model"), SyntheticVocabulary.Build(shape.VocabSize)),
        };
        RandomModelWriter.Write(shape, type, outDir, seed, maxShardBytes, progress, overwrite, writeTokenizer);
    }
}
