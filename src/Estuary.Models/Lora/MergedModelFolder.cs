// The output folder of a merge: the base's non-weight files (config.json with torch_dtype updated) plus the merged weights, written
// through a StagedOutputFolder (refuses to clobber inputs or a non-empty folder; built beside the target and renamed into place).
// Invariant: the target path holds either its old contents or the complete merged model, never a mix or a partial write.
using System.Text.Json;
using System.Text.Json.Nodes;
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models.Lora;

/// <summary>Writes a merged model folder atomically (see <see cref="StagedOutputFolder"/>).</summary>
internal sealed class MergedModelFolder(string target, bool overwrite, IReadOnlyList<string> inputs)
{
    // Larger files are weights in some other format, not tokenizer or config files.
    private const long MaxCopiedFileBytes = 100L << 20;
    private static readonly string[] s_weightExtensions = [".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".gguf", ".onnx"];

    private readonly StagedOutputFolder _folder = new(target, "merged model folder", overwrite, inputs);

    /// <summary>Throws before any work if the target is an input (or inside one), a file, or non-empty without overwrite.</summary>
    public void CheckTarget() => _folder.CheckTarget();

    /// <summary>Copies the base's model files, runs <paramref name="writeWeights"/> on the temporary folder, then publishes it.</summary>
    public IReadOnlyList<string> Write(string baseDir, DType dtype, Func<string, IReadOnlyList<string>> writeWeights) =>
        _folder.Write(temp =>
        {
            CopyModelFiles(baseDir, temp, dtype);
            return writeWeights(temp);
        });

    /// <summary>Copies every small non-weight file of the base folder (tokenizer, generation config, ...); config.json gets the new torch_dtype.</summary>
    private static void CopyModelFiles(string baseDir, string dest, DType dtype)
    {
        string config = Path.Combine(baseDir, "config.json");
        if (!File.Exists(config)) throw new FileNotFoundException($"base model folder '{baseDir}' has no config.json", config);
        foreach (var file in new DirectoryInfo(baseDir).EnumerateFiles())
        {
            string n = file.Name;
            if (n.StartsWith('.') || n.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase)) continue;
            if (s_weightExtensions.Contains(file.Extension.ToLowerInvariant()) || file.Length > MaxCopiedFileBytes) continue;
            if (n == "config.json") WriteConfig(file.FullName, Path.Combine(dest, n), dtype);
            else file.CopyTo(Path.Combine(dest, n)).IsReadOnly = false; // a read-only source (a store, a fixture) must not make the output read-only
        }
    }

    private static void WriteConfig(string source, string dest, DType dtype)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllBytes(source));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON ({e.Message})", e);
        }
        if (root is not JsonObject obj) throw new InvalidDataException($"{source}: expected a JSON object");
        obj["torch_dtype"] = dtype.TorchName();
        File.WriteAllText(dest, obj.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
