// Opens a PEFT adapter folder (adapter_config.json + adapter_model.safetensors or .bin) and maps its keys to base-model names.
// Invariant: every LoRA module has both factors with one rank equal to the config's; every other key is a full replacement tensor.
// PEFT key names live here (the adapter's counterpart of WeightMap).
using System.Text.RegularExpressions;
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models.Lora;

/// <summary>A loaded PEFT LoRA adapter: its config, its per-module factors, and the tensors it replaces outright.</summary>
public sealed partial class LoraAdapter : IDisposable
{
    /// <summary>Weight files looked for in an adapter folder, in order of preference.</summary>
    public static IReadOnlyList<string> WeightFiles { get; } = ["adapter_model.safetensors", "adapter_model.bin"];

    private const string Prefix = "base_model.model.";
    private readonly ICheckpointReader _reader;

    private LoraAdapter(string directory, string weightsPath, LoraConfig config, ICheckpointReader reader,
        Dictionary<string, LoraModule> modules, Dictionary<string, Weight> replaced)
    {
        Directory = directory;
        WeightsPath = weightsPath;
        Config = config;
        _reader = reader;
        Modules = modules;
        ReplacedTensors = replaced;
    }

    /// <summary>The adapter folder.</summary>
    public string Directory { get; }
    /// <summary>The weight file read.</summary>
    public string WeightsPath { get; }
    /// <summary>adapter_config.json.</summary>
    public LoraConfig Config { get; }
    /// <summary>LoRA factors by base module name (<c>model.layers.0.mlp.up_proj</c>); the base tensor is the name + <c>.weight</c>.</summary>
    public IReadOnlyDictionary<string, LoraModule> Modules { get; }
    /// <summary>Tensors saved in full (modules_to_save, trained biases) by base tensor name; they replace the base tensors.</summary>
    public IReadOnlyDictionary<string, Weight> ReplacedTensors { get; }

    /// <summary>Opens <paramref name="adapterDir"/>; throws naming the file and key for a missing file, a bad key, or inconsistent factors.</summary>
    public static LoraAdapter Open(string adapterDir)
    {
        if (!System.IO.Directory.Exists(adapterDir)) throw new DirectoryNotFoundException($"LoRA adapter folder '{adapterDir}' does not exist");
        var config = LoraConfig.Load(adapterDir);
        if (config.UseDora) throw new NotSupportedException($"{adapterDir}: DoRA adapters (use_dora: true) are not supported");
        string? path = WeightFiles.Select(f => Path.Combine(adapterDir, f)).FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"{adapterDir}: no adapter weights (looked for {string.Join(", ", WeightFiles)})");
        var reader = CheckpointIndex.OpenFile(path);
        try
        {
            var (modules, replaced) = Parse(reader, config, path);
            return new LoraAdapter(adapterDir, path, config, reader, modules, replaced);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _reader.Dispose();

    private static (Dictionary<string, LoraModule>, Dictionary<string, Weight>) Parse(ICheckpointReader reader, LoraConfig config, string path)
    {
        var factors = new Dictionary<string, (Weight? A, Weight? B, bool Embedding)>(StringComparer.Ordinal);
        var replaced = new Dictionary<string, Weight>(StringComparer.Ordinal);
        foreach (var key in reader.Names)
        {
            if (!key.StartsWith(Prefix, StringComparison.Ordinal))
                throw new CheckpointException($"{path}: key '{key}' does not start with '{Prefix}'; not a PEFT adapter state dict");
            string name = key[Prefix.Length..];
            if (name.Contains("lora_magnitude_vector", StringComparison.Ordinal))
                throw new NotSupportedException($"{path}: '{key}' is a DoRA magnitude; DoRA adapters are not supported");
            var m = LoraKey().Match(name);
            if (m.Success)
            {
                string module = m.Groups["module"].Value;
                bool embedding = m.Groups["kind"].Value == "lora_embedding_";
                var w = LoadFloat(reader, key, path);
                if (w.Shape.Rank != 2) throw new CheckpointException($"{path}: '{key}' has shape {w.Shape}; LoRA factors are 2-D");
                factors.TryGetValue(module, out var f);
                f = m.Groups["ab"].Value == "A" ? f with { A = w } : f with { B = w };
                factors[module] = f with { Embedding = embedding };
                continue;
            }
            // Full tensors (modules_to_save, biases): PEFT strips the adapter name; older saves keep "modules_to_save.<name>".
            string target = ModulesToSaveInfix().Replace(name, ".");
            if (!replaced.TryAdd(target, LoadFloat(reader, key, path)))
                throw new CheckpointException($"{path}: '{key}' replaces '{target}', which another key already replaces");
        }
        var modules = new Dictionary<string, LoraModule>(StringComparer.Ordinal);
        foreach (var (module, (a, b, embedding)) in factors)
        {
            if (a == null || b == null)
                throw new CheckpointException($"{path}: module '{module}' has lora_{(a == null ? "B" : "A")} but no lora_{(a == null ? "A" : "B")}");
            // Embedding LoRA stores A [r, vocab] and B [dim, r] like a linear's; the delta is transposed onto the [vocab, dim] table.
            if (a.Rows != b.Cols)
                throw new CheckpointException($"{path}: module '{module}' has lora_A {a.Shape} (r = {a.Rows}) but lora_B {b.Shape} (r = {b.Cols}); the ranks differ");
            int declared = config.RankFor(module);
            if (a.Rows != declared)
                throw new CheckpointException($"{path}: module '{module}' has rank {a.Rows} but adapter_config.json declares r = {declared} for it");
            modules[module] = new LoraModule(module, a, b, config.ScaleFor(module), config.FanInFanOut || embedding);
        }
        return (modules, replaced);
    }

    private static Weight LoadFloat(ICheckpointReader reader, string key, string path)
    {
        var info = reader.GetInfo(key);
        if (info.DType is not (DType.F32 or DType.F16 or DType.BF16))
            throw new CheckpointException($"{path}: '{key}' has dtype {info.DType}; expected F32, F16 or BF16");
        return reader.Load(key);
    }

    // "<module>.lora_A.weight", "<module>.lora_A.<adapter>.weight", "<module>.lora_embedding_A[.<adapter>]".
    [GeneratedRegex(@"^(?<module>.+)\.(?<kind>lora_|lora_embedding_)(?<ab>[AB])(?:\.(?!weight$)[^.]+)?(?:\.weight)?$")]
    private static partial Regex LoraKey();

    [GeneratedRegex(@"\.modules_to_save(?:\.[^.]+(?=\.[^.]+$))?\.")]
    private static partial Regex ModulesToSaveInfix();
}
