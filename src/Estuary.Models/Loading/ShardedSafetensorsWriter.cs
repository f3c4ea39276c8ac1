// Writes a checkpoint as model-0000N-of-0000M.safetensors shards of bounded size plus model.safetensors.index.json.
// Invariant: all shards and the index are written to temp files first and renamed only after every one succeeded (index last).
using System.Text.Json;

namespace Estuary.Models.Loading;

/// <summary>Writes a sharded safetensors checkpoint in the Hugging Face layout.</summary>
public static class ShardedSafetensorsWriter
{
    /// <summary>Name of the index file written beside the shards.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>
    /// Writes <paramref name="tensors"/> into <paramref name="directory"/> as shards of at most <paramref name="maxShardBytes"/> data bytes
    /// (a larger tensor gets a shard of its own), filled greedily in the given order, plus <see cref="IndexFileName"/> with
    /// <c>metadata.total_size</c> and <c>weight_map</c>. Always writes the index, even for one shard. Returns the shard file names in order.
    /// Does not remove other files: a <c>model.safetensors</c> already in the folder would still take precedence in <see cref="CheckpointIndex.Open"/>.
    /// </summary>
    public static IReadOnlyList<string> WriteDirectory(string directory, IEnumerable<TensorToWrite> tensors, long maxShardBytes,
                                                       IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        Directory.CreateDirectory(directory);

        var shards = new List<List<TensorToWrite>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long current = 0;
        foreach (var t in tensors)
        {
            if (!seen.Add(t.Name))
                throw new CheckpointException($"{directory}: tensor name '{t.Name}' is used twice");
            if (shards.Count == 0 || (current > 0 && current + t.ByteLength > maxShardBytes))
            {
                shards.Add([]);
                current = 0;
            }
            shards[^1].Add(t);
            current += t.ByteLength;
        }
        if (shards.Count == 0) shards.Add([]);

        var names = Enumerable.Range(1, shards.Count).Select(i => $"model-{i:D5}-of-{shards.Count:D5}.safetensors").ToList();
        var temps = new List<(string Temp, string Final)>();
        try
        {
            for (int i = 0; i < shards.Count; i++)
            {
                string final = Path.Combine(directory, names[i]);
                string temp = SafetensorsWriter.TempPathFor(final);
                temps.Add((temp, final));
                SafetensorsWriter.WriteUnpublished(temp, final, shards[i], metadata);
            }
            string indexFinal = Path.Combine(directory, IndexFileName);
            string indexTemp = SafetensorsWriter.TempPathFor(indexFinal);
            temps.Add((indexTemp, indexFinal));
            WriteIndex(indexTemp, shards, names);

            foreach (var (temp, final) in temps) File.Move(temp, final, overwrite: true);
        }
        catch
        {
            foreach (var (temp, _) in temps) SafetensorsWriter.TryDelete(temp);
            throw;
        }
        return names;
    }

    private static void WriteIndex(string path, List<List<TensorToWrite>> shards, List<string> names)
    {
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        using (var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            json.WriteNumber("total_size", shards.Sum(s => s.Sum(t => t.ByteLength)));
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            // Sorted by tensor name, as Hugging Face writes it, so the file is deterministic.
            foreach (var (name, shardFile) in shards.SelectMany((s, i) => s.Select(t => (t.Name, names[i]))).OrderBy(p => p.Name, StringComparer.Ordinal))
                json.WriteString(name, shardFile);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        file.Flush(flushToDisk: true);
    }
}
