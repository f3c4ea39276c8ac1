// Merges a PEFT LoRA adapter into its base model and writes a complete Hugging Face model folder (streaming, tensor by tensor).
// Invariant: everything is checked before the first byte is written, and the output appears only complete: it is built in a
// temporary folder beside the target and renamed into place at the end; on any failure the temporary folder is removed.
using System.Diagnostics;
using Estuary.Models.Config;
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models.Lora;

/// <summary>W' = W + s·B·A for every adapted module; modules_to_save tensors replace the base ones.</summary>
public static class LoraMerger
{
    /// <summary>
    /// Merges <see cref="LoraMergeOptions.LoraDir"/> into its base and writes <see cref="LoraMergeOptions.MergedDir"/>. Throws
    /// <see cref="CheckpointException"/> when the adapter does not fit the base (missing module, shape or rank mismatch),
    /// <see cref="FileNotFoundException"/>/<see cref="DirectoryNotFoundException"/> for missing inputs, and <see cref="IOException"/>
    /// when the output folder exists and is not empty without <see cref="LoraMergeOptions.Overwrite"/>; the base's config.json is read
    /// with <see cref="ModelConfig.Load"/> (its <see cref="InvalidDataException"/>/<see cref="NotSupportedException"/> name the field),
    /// and its tensors are checked as loading checks them (<see cref="WeightMap.CheckDense"/>).
    /// </summary>
    public static LoraMergeResult Merge(LoraMergeOptions options, IProgress<LoraMergeProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.DType is not (DType.F32 or DType.F16 or DType.BF16))
            throw new ArgumentException($"dtype must be f32, f16 or bf16 (got {options.DType})", nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxShardBytes);
        var clock = Stopwatch.StartNew();
        using var adapter = LoraAdapter.Open(options.LoraDir);
        string baseDir = ResolveBaseDir(options, adapter.Config);
        // The engine's own config parser and loading checks, so a base that would not load is refused before anything is written.
        var baseConfig = ModelConfig.Load(baseDir);
        var output = new MergedModelFolder(options.MergedDir, options.Overwrite, [baseDir, options.LoraDir]);
        output.CheckTarget();
        using var reader = CheckpointIndex.Open(baseDir);
        Validate(adapter, reader, baseDir);
        new WeightMap(reader, baseConfig).CheckDense();
        var loadTime = clock.Elapsed;

        clock.Restart();
        int done = 0, total = reader.Names.Count;
        var tensors = new List<TensorToWrite>(total);
        foreach (var name in reader.Names)
        {
            var source = adapter.ReplacedTensors.TryGetValue(name, out var replacement) ? replacement : reader.Load(name);
            var lora = name.EndsWith(".weight", StringComparison.Ordinal) && adapter.Modules.TryGetValue(name[..^".weight".Length], out var m) ? m : null;
            string current = name;
            tensors.Add(MergedTensor.Create(name, source, lora, options.DType, () => progress?.Report(new LoraMergeProgress(++done, total, current))));
        }
        var shards = output.Write(baseDir, options.DType, dir =>
            ShardedSafetensorsWriter.WriteDirectory(dir, tensors, options.MaxShardBytes, new Dictionary<string, string> { ["format"] = "pt" }));
        return new LoraMergeResult(baseDir, options.MergedDir, total, adapter.Modules.Count, adapter.ReplacedTensors.Count, shards,
            tensors.Sum(t => t.ByteLength), loadTime, clock.Elapsed);
    }

    /// <summary>The base folder: the option, else base_model_name_or_path (relative to the adapter folder's parent).</summary>
    internal static string ResolveBaseDir(LoraMergeOptions options, LoraConfig config)
    {
        if (options.BaseDir != null)
        {
            if (!Directory.Exists(options.BaseDir)) throw new DirectoryNotFoundException($"base model folder '{options.BaseDir}' does not exist");
            return options.BaseDir;
        }
        string named = config.BaseModelNameOrPath
            ?? throw new ArgumentException($"{options.LoraDir}: adapter_config.json has no base_model_name_or_path; pass --base-model-dir");
        string parent = Path.GetDirectoryName(Path.GetFullPath(options.LoraDir).TrimEnd(Path.DirectorySeparatorChar)) ?? ".";
        string resolved = Path.IsPathRooted(named) ? named : Path.Combine(parent, named);
        if (!Directory.Exists(resolved))
            throw new DirectoryNotFoundException($"base model '{named}' (base_model_name_or_path in adapter_config.json) not found at '{resolved}'; pass --base-model-dir");
        return resolved;
    }

    /// <summary>Checks that every adapter module and replacement fits a base tensor, and every targeted base module is adapted.</summary>
    internal static void Validate(LoraAdapter adapter, ICheckpointReader reader, string baseDir)
    {
        foreach (var (module, lora) in adapter.Modules)
        {
            string name = module + ".weight";
            if (!reader.Contains(name))
                throw new CheckpointException($"adapter module '{module}' has no tensor '{name}' in the base model {baseDir} (is the adapter for another model?)");
            var info = reader.GetInfo(name);
            if (!info.Shape.Equals(lora.DeltaShape))
                throw new CheckpointException($"shape mismatch for '{name}': the base tensor is {info.Shape} but the adapter's s·B·A is {lora.DeltaShape} " +
                    $"(lora_A {lora.A.Shape}, lora_B {lora.B.Shape}{(lora.Transposed ? ", transposed" : "")})");
            if (info.DType is not (DType.F32 or DType.F16 or DType.BF16))
                throw new CheckpointException($"base tensor '{name}' has dtype {info.DType}; only F32, F16 and BF16 weights can be merged");
        }
        foreach (var (name, tensor) in adapter.ReplacedTensors)
        {
            if (!reader.Contains(name))
                throw new CheckpointException($"the adapter saves '{name}' in full (modules_to_save or bias) but the base model {baseDir} has no such tensor");
            var info = reader.GetInfo(name);
            if (!info.Shape.Equals(tensor.Shape))
                throw new CheckpointException($"shape mismatch for '{name}': the base tensor is {info.Shape} but the adapter's replacement is {tensor.Shape}");
        }
        foreach (var name in reader.Names)
        {
            if (!name.EndsWith(".weight", StringComparison.Ordinal) || reader.GetInfo(name).Shape.Rank != 2) continue;
            string module = name[..^".weight".Length];
            if (adapter.Config.IsTarget(module) && !adapter.Modules.ContainsKey(module) && !adapter.ReplacedTensors.ContainsKey(name))
                throw new CheckpointException($"adapter_config.json targets '{module}' of the base model but the adapter has no lora_A/lora_B for it " +
                    "(was it trained on a model with other layers?)");
        }
    }
}
