// A checkpoint split over several files, described by a Hugging Face *.index.json weight map; routes names to shard readers.
// Invariant: after construction every name in the weight map exists in the shard the map assigns it to.
using System.Text.Json;
using Estuary.Tensors;

namespace Estuary.Models.Loading;

/// <summary>Tensors of a sharded checkpoint (<c>model.safetensors.index.json</c> or <c>pytorch_model.bin.index.json</c>).</summary>
public sealed class ShardedCheckpointReader : ICheckpointReader
{
    private readonly Dictionary<string, ICheckpointReader> _route;
    private readonly List<ICheckpointReader> _shards = [];
    private readonly string[] _names;

    /// <summary>
    /// Opens the index at <paramref name="indexPath"/> and every shard it names (shard files live beside it);
    /// <paramref name="openShard"/> opens one shard file. Throws <see cref="CheckpointException"/> naming the index, shard and tensor on any defect.
    /// </summary>
    public ShardedCheckpointReader(string indexPath, Func<string, ICheckpointReader> openShard)
    {
        ArgumentNullException.ThrowIfNull(openShard);
        IndexPath = indexPath;
        var weightMap = ReadWeightMap(indexPath);
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(indexPath))!;
        try
        {
            var shardByFile = new Dictionary<string, ICheckpointReader>(StringComparer.Ordinal);
            foreach (var file in weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                string shardPath = System.IO.Path.Combine(dir, file);
                if (!File.Exists(shardPath))
                    throw new CheckpointException($"{indexPath}: shard '{file}' listed in the weight map does not exist ({shardPath})");
                var reader = openShard(shardPath);
                _shards.Add(reader);
                shardByFile.Add(file, reader);
            }

            _route = new Dictionary<string, ICheckpointReader>(StringComparer.Ordinal);
            foreach (var (name, file) in weightMap)
            {
                var shard = shardByFile[file];
                if (!shard.Contains(name))
                    throw new CheckpointException($"{indexPath}: tensor '{name}' is mapped to shard '{file}', but that shard has no tensor '{name}'");
                _route.Add(name, shard);
            }
            // Storage order: shard by shard (in file-name order), each in its own storage order.
            _names = [.. _shards.SelectMany(s => s.Names.Where(n => _route.TryGetValue(n, out var owner) && ReferenceEquals(owner, s)))];
        }
        catch
        {
            foreach (var s in _shards) s.Dispose();
            throw;
        }
    }

    /// <summary>The index file.</summary>
    public string IndexPath { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> Names => _names;

    /// <inheritdoc />
    public bool Contains(string name) => _route.ContainsKey(name);

    /// <inheritdoc />
    public TensorInfo GetInfo(string name) => Route(name).GetInfo(name);

    /// <inheritdoc />
    public Weight Load(string name) => Route(name).Load(name);

    /// <summary>Closes every shard; weights loaded from them become invalid.</summary>
    public void Dispose()
    {
        foreach (var s in _shards) s.Dispose();
        _shards.Clear();
    }

    private ICheckpointReader Route(string name) =>
        _route.TryGetValue(name, out var r) ? r : throw new CheckpointException($"{IndexPath}: no tensor named '{name}' in the weight map");

    private static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"{indexPath}: cannot read index: {e.Message}", e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new CheckpointException($"{indexPath}: index has no \"weight_map\" object");
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                string? file = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : null;
                // Shards must sit beside the index: a path could make the loader read an arbitrary file.
                if (string.IsNullOrEmpty(file) || file != System.IO.Path.GetFileName(file) || file is "." or "..")
                    throw new CheckpointException($"{indexPath}: tensor '{p.Name}' maps to an invalid shard file name {p.Value.GetRawText()}");
                if (!result.TryAdd(p.Name, file))
                    throw new CheckpointException($"{indexPath}: tensor '{p.Name}' appears twice in the weight map");
            }
            if (result.Count == 0) throw new CheckpointException($"{indexPath}: weight map is empty");
            return result;
        }
    }
}
