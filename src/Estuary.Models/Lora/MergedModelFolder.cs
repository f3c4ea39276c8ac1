// The output folder of a merge: refuses to clobber inputs or a non-empty folder, builds everything in a temporary sibling folder,
// copies the base's non-weight files (config.json with torch_dtype updated), and renames the finished folder into place.
// Invariant: the target path holds either its old contents or the complete merged model, never a mix or a partial write.
using System.Text.Json;
using System.Text.Json.Nodes;
using Estuary.Tensors;

namespace Estuary.Models.Lora;

/// <summary>Writes a model folder atomically (temp folder + rename).</summary>
internal sealed class MergedModelFolder(string target, bool overwrite, IReadOnlyList<string> inputs)
{
    // Larger files are weights in some other format, not tokenizer or config files.
    private const long MaxCopiedFileBytes = 100L << 20;
    private static readonly string[] s_weightExtensions = [".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".gguf", ".onnx"];

    private readonly string _target = Path.GetFullPath(target).TrimEnd(Path.DirectorySeparatorChar);

    /// <summary>Throws before any work if the target is an input (or inside one) or is non-empty without overwrite.</summary>
    public void CheckTarget()
    {
        foreach (var input in inputs)
        {
            string full = Path.GetFullPath(input).TrimEnd(Path.DirectorySeparatorChar);
            if (IsSameOrInside(_target, full) || IsSameOrInside(full, _target))
                throw new ArgumentException($"merged model folder '{target}' overlaps the input folder '{input}'; choose another folder");
        }
        if (File.Exists(_target)) throw new IOException($"merged model folder '{target}' is a file");
        if (Directory.Exists(_target) && Directory.EnumerateFileSystemEntries(_target).Any() && !overwrite)
            throw new IOException($"merged model folder '{target}' exists and is not empty; pass --overwrite to replace it");
    }

    /// <summary>Copies the base's model files, runs <paramref name="writeWeights"/> on the temporary folder, then publishes it.</summary>
    public IReadOnlyList<string> Write(string baseDir, DType dtype, Func<string, IReadOnlyList<string>> writeWeights)
    {
        CheckTarget();
        string parent = Path.GetDirectoryName(_target) ?? ".";
        Directory.CreateDirectory(parent);
        string name = Path.GetFileName(_target);
        string temp = Path.Combine(parent, $".{name}.merging-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            CopyModelFiles(baseDir, temp, dtype);
            var shards = writeWeights(temp);
            Publish(temp, parent, name);
            return shards;
        }
        catch
        {
            TryDeleteDirectory(temp);
            throw;
        }
    }

    private void Publish(string temp, string parent, string name)
    {
        if (!Directory.Exists(_target))
        {
            Directory.Move(temp, _target);
            return;
        }
        if (!Directory.EnumerateFileSystemEntries(_target).Any())
        {
            Directory.Delete(_target);
            Directory.Move(temp, _target);
            return;
        }
        // --overwrite: move the old folder aside first, so a failed rename can put it back.
        string old = Path.Combine(parent, $".{name}.replaced-{Guid.NewGuid():N}");
        Directory.Move(_target, old);
        try
        {
            Directory.Move(temp, _target);
        }
        catch
        {
            Directory.Move(old, _target);
            throw;
        }
        TryDeleteDirectory(old);
    }

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

    private static bool IsSameOrInside(string path, string folder) =>
        path == folder || path.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the error that led here is the one to report.
        }
    }
}
