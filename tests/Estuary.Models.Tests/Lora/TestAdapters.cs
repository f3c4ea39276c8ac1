// Builds adapter folders for tests: copies of the fixture adapter (one weight format), and synthetic adapters from float arrays.
using System.Runtime.InteropServices;
using System.Text.Json;
using Estuary.Models.Loading;
using Estuary.Tensors;
using Estuary.Testing;

namespace Estuary.Models.Tests.Lora;

internal static class TestAdapters
{
    public static string FixtureDir => Fixtures.Path("lora");
    public static string BaseDir => Fixtures.Path("baichuan2-tiny-rope");

    /// <summary>A copy of the fixture adapter holding only <paramref name="weightsFile"/> (adapter_model.safetensors or .bin).</summary>
    public static string CopyFixture(string root, string weightsFile)
    {
        var dir = Path.Combine(root, "adapter-" + Path.GetExtension(weightsFile).TrimStart('.'));
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(FixtureDir, "adapter_config.json"), Path.Combine(dir, "adapter_config.json"));
        File.Copy(Path.Combine(FixtureDir, weightsFile), Path.Combine(dir, weightsFile));
        return dir;
    }

    /// <summary>Writes adapter_config.json (the fixture's, with <paramref name="configEdits"/> applied) and adapter_model.safetensors.</summary>
    public static string Write(string dir, IReadOnlyDictionary<string, (long[] Shape, float[] Data)> tensors,
        Action<Dictionary<string, object?>>? configEdits = null)
    {
        Directory.CreateDirectory(dir);
        var config = JsonSerializer.Deserialize<Dictionary<string, object?>>(File.ReadAllText(Path.Combine(FixtureDir, "adapter_config.json")))!;
        configEdits?.Invoke(config);
        File.WriteAllText(Path.Combine(dir, "adapter_config.json"), JsonSerializer.Serialize(config));
        SafetensorsWriter.WriteFile(Path.Combine(dir, "adapter_model.safetensors"), tensors.Select(t =>
            TensorToWrite.FromBytes(t.Key, DType.F32, new Shape(t.Value.Shape), MemoryMarshal.AsBytes(t.Value.Data.AsSpan()).ToArray())));
        return dir;
    }

    /// <summary>The fixture adapter's tensors as floats, by key.</summary>
    public static Dictionary<string, (long[] Shape, float[] Data)> FixtureTensors()
    {
        using var reader = CheckpointIndex.OpenFile(Path.Combine(FixtureDir, "adapter_model.safetensors"));
        var result = new Dictionary<string, (long[], float[])>();
        foreach (var name in reader.Names)
        {
            var w = reader.Load(name);
            var data = new float[w.Shape.NumElements];
            for (long i = 0; i < data.Length; i++) data[i] = w.GetFloat(i);
            result[name] = (w.Shape.ToArray(), data);
        }
        return result;
    }

    /// <summary>Whether <paramref name="parent"/> holds leftovers of an unfinished merge (temporary folders).</summary>
    public static bool HasTempFolders(string parent) =>
        Directory.EnumerateFileSystemEntries(parent).Any(e => Path.GetFileName(e).StartsWith('.'));
}
