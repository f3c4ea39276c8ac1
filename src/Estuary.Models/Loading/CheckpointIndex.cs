// Finds and opens the checkpoint of a model folder (single or sharded, safetensors or PyTorch .bin).
// Invariant: safetensors is preferred over .bin, and a single file over an index, in a fixed documented order.
namespace Estuary.Models.Loading;

/// <summary>Opens model checkpoints by folder or by file.</summary>
public static class CheckpointIndex
{
    /// <summary>The files looked for in a model folder, in order of preference.</summary>
    public static IReadOnlyList<string> CandidateFiles { get; } =
        ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"];

    /// <summary>
    /// Opens the checkpoint in <paramref name="modelDir"/>: the first of <see cref="CandidateFiles"/> that exists.
    /// Throws <see cref="CheckpointException"/> naming the folder and the files looked for when there is none.
    /// </summary>
    public static ICheckpointReader Open(string modelDir)
    {
        if (!Directory.Exists(modelDir))
            throw new CheckpointException($"{modelDir}: model folder does not exist");
        foreach (var candidate in CandidateFiles)
        {
            string path = Path.Combine(modelDir, candidate);
            if (File.Exists(path)) return OpenFile(path);
        }
        throw new CheckpointException($"{modelDir}: no checkpoint found (looked for {string.Join(", ", CandidateFiles)})");
    }

    /// <summary>
    /// Opens one checkpoint file by its name: <c>*.safetensors</c>, <c>*.bin</c> / <c>*.pt</c> / <c>*.pth</c> (torch.save zip),
    /// or <c>*.index.json</c> (a sharded set whose shards are opened by their own extensions).
    /// </summary>
    public static ICheckpointReader OpenFile(string path)
    {
        if (!File.Exists(path)) throw new CheckpointException($"{path}: checkpoint file does not exist");
        string name = Path.GetFileName(path);
        if (name.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase))
            return new ShardedCheckpointReader(path, OpenShard);
        return OpenShard(path);
    }

    private static ICheckpointReader OpenShard(string path)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        return ext switch
        {
            ".safetensors" => new SafetensorsReader(path),
            ".bin" or ".pt" or ".pth" => new TorchBinReader(path),
            _ => throw new CheckpointException($"{path}: unknown checkpoint format (expected .safetensors, .bin, .pt, .pth or .index.json)"),
        };
    }
}
