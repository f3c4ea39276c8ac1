// Writes quantized Hugging Face directories: our INT8 format (module.weight I8 + module.weight_scale F16) and AutoAWQ GEMM
// (module.qweight/qzeros I32 + module.scales F16, other tensors F16). Invariant: tensors are produced layer by layer inside the
// writer's callbacks, so at most one layer's float weights are in memory; non-weight files are copied, config.json gains quantization_config.
// The input is checked before any work (float, not already quantized, every tensor read present with its config shape), and the output is
// built beside the target and renamed into place (StagedOutputFolder), so a failure leaves the target as it was.
using System.Text.Json;
using System.Text.Json.Nodes;
using Estuary.Models.Config;
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models.Quantization;

/// <summary>Writes quantized checkpoints.</summary>
public static class QuantizedCheckpointWriter
{
    private const long MaxShardBytes = 4L << 30;

    /// <summary>
    /// Writes <paramref name="modelDir"/> with every decoder-block linear and the untied lm_head as INT8 per channel (embeddings
    /// and norms as stored; the head too when <paramref name="keepHead"/> is set). Throws as <see cref="CheckInput"/> does, and on a
    /// non-empty <paramref name="outDir"/> unless <paramref name="overwrite"/>.
    /// </summary>
    public static void WriteInt8(string modelDir, string outDir, IProgress<int>? layerDone = null, bool keepHead = false, bool overwrite = false)
    {
        var config = ModelConfig.Load(modelDir);
        using var reader = CheckpointIndex.Open(modelDir);
        var map = new WeightMap(reader, config);
        CheckInput(config, reader, map, null);
        var output = Output(modelDir, outDir, overwrite); // its Write checks the target before anything is computed or written
        var modules = ModuleLayers(config, map);
        bool quantizeHead = !keepHead && reader.Contains("lm_head.weight");
        if (quantizeHead) modules["lm_head"] = (config.NumLayers, false); // after the last layer
        var tensors = new List<(int Layer, TensorToWrite Tensor)>();
        foreach (var name in reader.Names)
        {
            if (ModuleOf(name, modules) is { } m)
            {
                var info = reader.GetInfo(name);
                int n = checked((int)info.Shape[0]), k = checked((int)info.Shape[1]);
                var cache = new Lazy<(sbyte[] Q, Half[] S)>(() => Int8Module(reader.Load(name), n, k));
                tensors.Add((m.Layer, new TensorToWrite(name, DType.I8, new Shape(n, k), s => s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(cache.Value.Q.AsSpan())))));
                tensors.Add((m.Layer, new TensorToWrite(m.Module + QuantizedCheckpoint.Int8Scale, DType.F16, new Shape(n), s =>
                {
                    s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(cache.Value.S.AsSpan()));
                    if (m.Last) layerDone?.Report(m.Layer + 1);
                })));
            }
            else tensors.Add((LayerOf(name), TensorToWrite.FromWeight(reader.Load(name))));
        }
        var quant = new QuantizationConfig { Method = QuantizationConfig.Int8Method, Bits = 8, GroupSize = -1, LmHeadQuantized = quantizeHead };
        Write(modelDir, output, config, quant, tensors, null);
    }

    /// <summary>
    /// Writes <paramref name="modelDir"/> AWQ-quantized (scales searched from <paramref name="stats"/>) in AutoAWQ's GEMM format. Throws
    /// as <see cref="CheckInput"/> does, and on a non-empty <paramref name="outDir"/> unless <paramref name="overwrite"/>.
    /// </summary>
    public static void WriteAwq(string modelDir, string outDir, AwqOptions options, LayerActivations[] stats, IBackend backend,
        IProgress<int>? layerDone = null, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(stats);
        var config = ModelConfig.Load(modelDir);
        using var reader = CheckpointIndex.Open(modelDir);
        var map = new WeightMap(reader, config);
        CheckInput(config, reader, map, options);
        if (stats.Length < config.NumLayers)
            throw new ArgumentException($"calibration statistics cover {stats.Length} layers; the model has {config.NumLayers}", nameof(stats));
        var output = Output(modelDir, outDir, overwrite); // its Write checks the target before any layer is quantized
        var modules = ModuleLayers(config, map);
        var layers = new AwqLayerQuantizer(config, map, new AwqSearch(backend, options), options);
        AwqLayerResult? current = null;
        AwqLayerResult Layer(int l)
        {
            if (current?.Layer != l)
            {
                current = layers.Quantize(l, stats[l]);
                layerDone?.Report(l + 1);
            }
            return current;
        }
        var tensors = new List<(int Layer, TensorToWrite Tensor)>();
        foreach (var name in reader.Names)
        {
            var info = reader.GetInfo(name);
            if (ModuleOf(name, modules) is { } m)
            {
                long n = info.Shape[0], k = info.Shape[1];
                int groups = (int)(k / options.GroupSize);
                tensors.Add((m.Layer, new TensorToWrite(m.Module + QuantizedCheckpoint.QWeight, DType.I32, new Shape(k, n / 8), s => s.Write(Bytes(Layer(m.Layer).Modules[m.Module].QWeight)))));
                tensors.Add((m.Layer, new TensorToWrite(m.Module + QuantizedCheckpoint.QZeros, DType.I32, new Shape(groups, n / 8), s => s.Write(Bytes(Layer(m.Layer).Modules[m.Module].QZeros)))));
                tensors.Add((m.Layer, new TensorToWrite(m.Module + QuantizedCheckpoint.Scales, DType.F16, new Shape(groups, n), s => s.Write(Bytes(Layer(m.Layer).Modules[m.Module].Scales)))));
            }
            else if (info.DType is DType.F32 or DType.BF16 or DType.F16)
            {
                int layer = LayerOf(name);
                tensors.Add((layer, new TensorToWrite(name, DType.F16, info.Shape, s =>
                {
                    // Norms of a quantized layer carry the folded 1/s (and v's bias o's, see AwqLayerQuantizer); other tensors,
                    // biases included, are converted as stored.
                    float[]? folded = layer >= 0 && layer < config.NumLayers && Layer(layer).Folded.TryGetValue(name, out var g) ? g : null;
                    var w = reader.Load(name);
                    var half = new Half[w.Shape.NumElements];
                    for (long i = 0; i < half.LongLength; i++) half[i] = (Half)(folded?[i] ?? w.GetFloat(i));
                    s.Write(Bytes(half));
                })));
            }
            else tensors.Add((LayerOf(name), TensorToWrite.FromWeight(reader.Load(name))));
        }
        var quant = new QuantizationConfig { Method = QuantizationConfig.AwqMethod, Bits = 4, GroupSize = options.GroupSize, ZeroPoint = true };
        Write(modelDir, output, config, quant, tensors, "float16");
    }

    /// <summary>
    /// Checks before any work what a quantize run needs, input first: the model is not already quantized (a quantization_config in
    /// config.json, as the loader tells, or quantized tensors), every tensor the quantizer reads exists with the shape config.json
    /// implies and a float dtype (the loader's own checks), AWQ's group size divides every module (when <paramref name="awq"/> is
    /// given); then that <paramref name="outDir"/> is not the input or inside it, not a file, and empty unless
    /// <paramref name="overwrite"/>. Returns the input's config.
    /// </summary>
    /// <exception cref="CheckpointException">the input is quantized, or a tensor is missing or of the wrong shape or dtype.</exception>
    /// <exception cref="ArgumentException">the output overlaps the input, or the group size does not fit the model.</exception>
    /// <exception cref="IOException">the output is a file or a non-empty folder without <paramref name="overwrite"/>.</exception>
    public static ModelConfig CheckInput(string modelDir, string outDir, bool overwrite, AwqOptions? awq = null)
    {
        var config = ModelConfig.Load(modelDir);
        using (var reader = CheckpointIndex.Open(modelDir))
            CheckInput(config, reader, new WeightMap(reader, config), awq);
        Output(modelDir, outDir, overwrite).CheckTarget();
        return config;
    }

    private static void CheckInput(ModelConfig config, ICheckpointReader reader, WeightMap map, AwqOptions? awq)
    {
        // The loader serves a checkpoint as quantized exactly when config.json has a quantization_config object (QuantizationConfig.From).
        if (config.Raw["quantization_config"] is JsonObject q)
            throw new CheckpointException($"the input is already quantized (config.json has a quantization_config, quant_method " +
                $"'{q["quant_method"]?.ToString() ?? "?"}'); quantize the float model it was made from");
        if (reader.Names.FirstOrDefault(n => n.EndsWith(QuantizedCheckpoint.QWeight, StringComparison.Ordinal)
                || n.EndsWith(QuantizedCheckpoint.Int8Scale, StringComparison.Ordinal)) is { } quantized)
            throw new CheckpointException($"the input is already quantized (it holds the quantized tensor '{quantized}'); quantize the float model it was made from");
        map.CheckDense();
        if (awq is null) return;
        if (awq.Validate() is { Count: > 0 } errors) throw new ArgumentException(string.Join("; ", errors));
        foreach (var role in map.LayerRoles)
        {
            var (n, k) = map.LinearShape(role);
            if (k % awq.GroupSize != 0 || n % 8 != 0)
                throw new ArgumentException($"--group-size {awq.GroupSize} does not fit '{map.Module(0, role)}' [{n}, {k}]: AWQ needs in features " +
                    $"divisible by the group size and out features by 8");
        }
    }

    private static StagedOutputFolder Output(string modelDir, string outDir, bool overwrite) =>
        new(outDir, "output folder", overwrite, [modelDir]);

    private static ReadOnlySpan<byte> Bytes<T>(T[] a) where T : struct => System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan());

    private static (sbyte[] Q, Half[] S) Int8Module(Weight w, int n, int k)
    {
        var q = new sbyte[(long)n * k];
        var s = new Half[n];
        var row = new float[k];
        for (int r = 0; r < n; r++)
        {
            w.ReadRow(r, row);
            s[r] = Int8Quantizer.QuantizeRow(row, q.AsSpan(r * k, k));
        }
        return (q, s);
    }

    /// <summary>Quantized modules: module name → (layer, whether it is the layer's last module).</summary>
    private static Dictionary<string, (int Layer, bool Last)> ModuleLayers(ModelConfig config, WeightMap map)
    {
        var result = new Dictionary<string, (int, bool)>(StringComparer.Ordinal);
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            foreach (var role in map.LayerRoles) result[map.Module(layer, role)] = (layer, role == LinearRole.Down);
        }
        return result;
    }

    private static (string Module, int Layer, bool Last)? ModuleOf(string tensor, Dictionary<string, (int Layer, bool Last)> modules)
    {
        if (!tensor.EndsWith(".weight", StringComparison.Ordinal)) return null;
        string module = tensor[..^".weight".Length];
        return modules.TryGetValue(module, out var v) ? (module, v.Layer, v.Last) : null;
    }

    /// <summary>The decoder layer a tensor belongs to, or -1 (embeddings, final norm, head).</summary>
    private static int LayerOf(string name)
    {
        const string prefix = "model.layers.";
        if (!name.StartsWith(prefix, StringComparison.Ordinal)) return -1;
        int end = name.IndexOf('.', prefix.Length);
        return end > 0 && int.TryParse(name.AsSpan(prefix.Length, end - prefix.Length), out int l) ? l : -1;
    }

    private static void Write(string modelDir, StagedOutputFolder output, ModelConfig config, QuantizationConfig quant,
        List<(int Layer, TensorToWrite Tensor)> tensors, string? torchDtype) => output.Write(outDir =>
    {
        foreach (var file in Directory.GetFiles(modelDir))
        {
            string name = Path.GetFileName(file);
            // Tokenizer, generation defaults, custom modelling code and licences; not weights, not test data.
            bool keep = name.StartsWith("tokenizer", StringComparison.Ordinal) || name is "special_tokens_map.json" or "generation_config.json" or "added_tokens.json"
                || name.EndsWith(".py", StringComparison.Ordinal) || name.StartsWith("LICENSE", StringComparison.Ordinal) || name.StartsWith("README", StringComparison.Ordinal);
            if (!keep) continue;
            new FileInfo(file).CopyTo(Path.Combine(outDir, name)).IsReadOnly = false; // a read-only source must not make the output read-only
        }
        // Layer by layer (non-layer tensors first), so one layer's float weights are processed at a time.
        var ordered = tensors.OrderBy(t => t.Layer).Select(t => t.Tensor).ToList();
        long total = ordered.Sum(t => t.ByteLength);
        if (total <= MaxShardBytes)
            SafetensorsWriter.WriteFile(Path.Combine(outDir, "model.safetensors"), ordered, new Dictionary<string, string> { ["format"] = "pt" });
        else
            ShardedSafetensorsWriter.WriteDirectory(outDir, ordered, MaxShardBytes, new Dictionary<string, string> { ["format"] = "pt" });
        var json = (JsonObject)config.Raw.DeepClone();
        json["quantization_config"] = quant.ToJson();
        if (torchDtype is not null) json["torch_dtype"] = torchDtype;
        File.WriteAllText(Path.Combine(outDir, "config.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    });
}
