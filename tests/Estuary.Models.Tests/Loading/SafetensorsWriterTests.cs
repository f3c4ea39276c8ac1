// Round trips through SafetensorsWriter / ShardedSafetensorsWriter, header layout, and all-or-nothing writes.
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Estuary.Models.Loading;
using Estuary.Tensors;
using Estuary.Testing;

namespace Estuary.Models.Tests.Loading;

public class SafetensorsWriterTests
{
    [Fact]
    public void Rope_fixture_round_trips_through_a_single_file_byte_for_byte()
    {
        using var dir = new TempDir();
        using var source = CheckpointIndex.Open(Fixtures.Path("baichuan2-tiny-rope"));
        SafetensorsWriter.WriteFile(dir.File("model.safetensors"), source.Names.Select(n => TensorToWrite.FromWeight(source.Load(n))),
            new Dictionary<string, string> { ["format"] = "pt" });

        using var copy = CheckpointIndex.Open(dir.Path);
        Assert.Equal(source.Names, copy.Names);
        foreach (var name in source.Names)
        {
            Assert.Equal(source.GetInfo(name), copy.GetInfo(name));
            Assert.True(source.Load(name).Bytes.SequenceEqual(copy.Load(name).Bytes), name);
        }
        Assert.Equal("pt", ((SafetensorsReader)copy).Metadata["format"]);
        // Same tensors in the same (sorted) order, contiguous: the data section is identical to the fixture's.
        Assert.Equal(DataSection(Fixtures.Path("baichuan2-tiny-rope", "model.safetensors")), DataSection(dir.File("model.safetensors")));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void Rope_fixture_round_trips_through_three_or_more_shards()
    {
        using var dir = new TempDir();
        using var source = CheckpointIndex.Open(Fixtures.Path("baichuan2-tiny-rope"));
        long total = source.Names.Sum(n => source.Load(n).ByteLength);
        var shards = ShardedSafetensorsWriter.WriteDirectory(dir.Path, source.Names.Select(n => TensorToWrite.FromWeight(source.Load(n))), maxShardBytes: 160_000);

        Assert.True(shards.Count >= 3, $"{shards.Count} shards");
        Assert.Equal(Enumerable.Range(1, shards.Count).Select(i => $"model-{i:D5}-of-{shards.Count:D5}.safetensors"), shards);
        foreach (var s in shards)
        {
            // A shard exceeds the limit only when it holds a single tensor larger than the limit.
            using var shard = new SafetensorsReader(dir.File(s));
            long bytes = shard.Names.Sum(n => shard.Load(n).ByteLength);
            Assert.True(bytes <= 160_000 || shard.Names.Count == 1, $"{s}: {bytes} bytes in {shard.Names.Count} tensors");
        }

        using var index = JsonDocument.Parse(File.ReadAllBytes(dir.File("model.safetensors.index.json")));
        Assert.Equal(total, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
        var map = index.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Assert.Equal(source.Names.Order(), map.Keys.Order());

        using var copy = CheckpointIndex.Open(dir.Path);
        Assert.IsType<ShardedCheckpointReader>(copy);
        Assert.Equal(source.Names, copy.Names);
        foreach (var name in source.Names)
        {
            Assert.Equal(source.GetInfo(name), copy.GetInfo(name));
            Assert.True(source.Load(name).Bytes.SequenceEqual(copy.Load(name).Bytes), name);
        }
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void Header_is_padded_with_spaces_to_a_multiple_of_8_and_tensors_keep_the_given_order()
    {
        using var dir = new TempDir();
        string path = dir.File("x.safetensors");
        byte[] a = [1, 2, 3];
        byte[] b = new byte[16];
        for (int i = 0; i < 16; i++) b[i] = (byte)(100 + i);
        SafetensorsWriter.WriteFile(path,
        [
            TensorToWrite.FromBytes("zeta", DType.U8, new Shape(3), a),
            TensorToWrite.FromBytes("alpha", DType.F32, new Shape(2, 2), b),
        ]);

        var file = File.ReadAllBytes(path);
        long n = BinaryPrimitives.ReadInt64LittleEndian(file);
        Assert.Equal(0, n % 8);
        string header = Encoding.UTF8.GetString(file, 8, (int)n);
        Assert.EndsWith("}", header.TrimEnd(' '));
        Assert.InRange(header.Length - header.TrimEnd(' ').Length, 0, 7);
        using var json = JsonDocument.Parse(header);
        Assert.Equal([0, 3], json.RootElement.GetProperty("zeta").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal([3, 19], json.RootElement.GetProperty("alpha").GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.False(json.RootElement.TryGetProperty("__metadata__", out _));
        Assert.Equal([.. a, .. b], file[(8 + (int)n)..]);

        using var reader = new SafetensorsReader(path);
        Assert.Equal(["zeta", "alpha"], reader.Names);
        Assert.Equal(new TensorInfo("alpha", DType.F32, new Shape(2, 2)), reader.GetInfo("alpha"));
    }

    [Fact]
    public void A_failing_tensor_leaves_no_file_and_keeps_the_previous_one()
    {
        using var dir = new TempDir();
        string path = dir.File("model.safetensors");
        File.WriteAllText(path, "previous");
        var bad = new TensorToWrite("short", DType.F32, new Shape(4), s => s.Write(new byte[8]));
        var ex = Assert.Throws<CheckpointException>(() => SafetensorsWriter.WriteFile(path, [TensorToWrite.FromBytes("ok", DType.U8, new Shape(1), new byte[1]), bad]));
        Assert.Contains("'short'", ex.Message);
        Assert.Contains("wrote 8 bytes, declared 16", ex.Message);
        Assert.Equal("previous", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir.Path));

        var boom = new TensorToWrite("boom", DType.U8, new Shape(1), _ => throw new InvalidOperationException("producer failed"));
        Assert.Throws<InvalidOperationException>(() => ShardedSafetensorsWriter.WriteDirectory(dir.Path, [TensorToWrite.FromBytes("ok", DType.U8, new Shape(1), new byte[1]), boom], 1));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Duplicate_names_are_rejected()
    {
        using var dir = new TempDir();
        var t = TensorToWrite.FromBytes("w", DType.U8, new Shape(1), new byte[1]);
        Assert.Contains("'w'", Assert.Throws<CheckpointException>(() => SafetensorsWriter.WriteFile(dir.File("a.safetensors"), [t, t])).Message);
        Assert.Contains("'w'", Assert.Throws<CheckpointException>(() => ShardedSafetensorsWriter.WriteDirectory(dir.Path, [t, t], 1)).Message);
        Assert.Empty(Directory.GetFiles(dir.Path));
        Assert.Throws<ArgumentException>(() => TensorToWrite.FromBytes("w", DType.F32, new Shape(2), new byte[7]));
    }

    private static byte[] DataSection(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return bytes[(8 + (int)BinaryPrimitives.ReadInt64LittleEndian(bytes))..];
    }
}
