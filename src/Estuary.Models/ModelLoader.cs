// Loads a Hugging Face model directory onto a backend: config → checkpoint → WeightMap → architecture builder.
// Invariant: on failure everything opened is disposed; on success the model owns the checkpoint reader.
using Estuary.Models.Config;
using Estuary.Models.Loading;
using Estuary.Models.Quantization;
using Estuary.Tensors;

namespace Estuary.Models;

/// <summary>Loads models from disk.</summary>
public static class ModelLoader
{
    /// <summary>Loads <paramref name="modelDir"/>; <paramref name="layerLoaded"/> receives the number of layers wired so far;
    /// <paramref name="quantization"/> quantizes on the fly (INT8) or insists on a pre-quantized checkpoint (AWQ);
    /// <paramref name="maxPositions"/>, when below max_position_embeddings, limits the positions the model is built for (the
    /// RoPE table is sized by it, so a serving context of 4k on a 1M-position checkpoint does not precompute 1M rows).</summary>
    public static CausalLm Load(string modelDir, IBackend backend, IProgress<int>? layerLoaded = null, QuantizationMode quantization = QuantizationMode.None,
        int? maxPositions = null)
    {
        if (!Directory.Exists(modelDir)) throw new DirectoryNotFoundException($"model directory '{modelDir}' does not exist");
        if (maxPositions is < 1) throw new ArgumentOutOfRangeException(nameof(maxPositions), $"maxPositions must be positive (got {maxPositions})");
        var config = ModelConfig.Load(modelDir);
        if (maxPositions is { } cap && cap < config.MaxPositions) config = config with { MaxPositions = cap };
        var builder = ModelRegistry.Get(config.Architecture);
        // Float weights are copied into process memory (faster to stream than the mapped file); weights quantized at load are
        // re-encoded from the mapping directly, so the float copy would only add a second model's worth of memory.
        ICheckpointReader reader = CheckpointIndex.Open(modelDir);
        if (quantization == QuantizationMode.None) reader = new ResidentCheckpointReader(reader);
        try
        {
            CheckLayerCount(config, reader);
            var model = builder(config, new WeightMap(reader, config), backend, layerLoaded, reader);
            ModelQuantizer.Apply(model, quantization);
            return model;
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A config.json that claims more layers than the checkpoint stores fails here, before anything sized by the layer count is
    /// allocated. Layers are found by the "layers.{i}." segment every supported checkpoint uses.
    /// </summary>
    private static void CheckLayerCount(ModelConfig config, ICheckpointReader reader)
    {
        int stored = 0;
        foreach (var name in reader.Names)
        {
            int at = name.IndexOf("layers.", StringComparison.Ordinal);
            if (at < 0) continue;
            var rest = name.AsSpan(at + "layers.".Length);
            int dot = rest.IndexOf('.');
            if (dot > 0 && int.TryParse(rest[..dot], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index))
                stored = Math.Max(stored, index + 1);
        }
        if (stored > 0 && stored < config.NumLayers)
            throw new CheckpointException($"config.json says num_hidden_layers {config.NumLayers}, but the checkpoint stores layers 0–{stored - 1} only");
    }
}
