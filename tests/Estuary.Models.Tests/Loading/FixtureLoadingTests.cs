// Loads every fixture checkpoint through CheckpointIndex and checks names, dtypes, shapes (README tables) and values.
using Estuary.Models.Loading;
using Estuary.Tensors;
using Estuary.Testing;

namespace Estuary.Models.Tests.Loading;

public class FixtureLoadingTests
{
    private static readonly string[] s_baichuanLayerTensors =
        ["input_layernorm.weight", "self_attn.W_pack.weight", "self_attn.o_proj.weight", "post_attention_layernorm.weight",
         "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"];

    /// <summary>Expected tensors of the Baichuan2 layout (README 3.1).</summary>
    private static Dictionary<string, Shape> BaichuanShapes(int layers, long hidden, long intermediate, long vocab)
    {
        var d = new Dictionary<string, Shape>
        {
            ["model.embed_tokens.weight"] = new(vocab, hidden),
            ["model.norm.weight"] = new(hidden),
            ["lm_head.weight"] = new(vocab, hidden),
        };
        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}.";
            d[p + "input_layernorm.weight"] = new(hidden);
            d[p + "post_attention_layernorm.weight"] = new(hidden);
            d[p + "self_attn.W_pack.weight"] = new(3 * hidden, hidden);
            d[p + "self_attn.o_proj.weight"] = new(hidden, hidden);
            d[p + "mlp.gate_proj.weight"] = new(intermediate, hidden);
            d[p + "mlp.up_proj.weight"] = new(intermediate, hidden);
            d[p + "mlp.down_proj.weight"] = new(hidden, intermediate);
        }
        return d;
    }

    private static void AssertTensors(ICheckpointReader reader, Dictionary<string, Shape> expected, DType dtype)
    {
        Assert.Equal(expected.Keys.Order(), reader.Names.Order());
        foreach (var (name, shape) in expected)
        {
            var info = reader.GetInfo(name);
            Assert.Equal(dtype, info.DType);
            Assert.Equal(shape, info.Shape);
            var w = reader.Load(name);
            Assert.Equal(shape, w.Shape);
            Assert.Equal(shape.NumElements * dtype.SizeOf(), w.ByteLength);
        }
    }

    [Fact]
    public void Stories260k_F32_safetensors_has_47_llama_tensors()
    {
        using var reader = CheckpointIndex.Open(Fixtures.Path("stories260k"));
        Assert.IsType<SafetensorsReader>(reader);
        var expected = new Dictionary<string, Shape>
        {
            ["model.embed_tokens.weight"] = new(512, 64),
            ["model.norm.weight"] = new(64),
        };
        for (int l = 0; l < 5; l++)
        {
            string p = $"model.layers.{l}.";
            expected[p + "input_layernorm.weight"] = new(64);
            expected[p + "post_attention_layernorm.weight"] = new(64);
            expected[p + "self_attn.q_proj.weight"] = new(64, 64);
            expected[p + "self_attn.k_proj.weight"] = new(32, 64);
            expected[p + "self_attn.v_proj.weight"] = new(32, 64);
            expected[p + "self_attn.o_proj.weight"] = new(64, 64);
            expected[p + "mlp.gate_proj.weight"] = new(172, 64);
            expected[p + "mlp.up_proj.weight"] = new(172, 64);
            expected[p + "mlp.down_proj.weight"] = new(64, 172);
        }
        Assert.Equal(47, expected.Count);
        AssertTensors(reader, expected, DType.F32);
        Assert.False(reader.Contains("lm_head.weight")); // tied embeddings: no lm_head in the file

        // Zero-copy: the weight points into the mapped file, and the embedding matches the llama2.c original
        // (token_embedding is the first float array after the 7-int header of stories260K.bin).
        var emb = reader.Load("model.embed_tokens.weight");
        Assert.IsType<MappedFileStorage>(emb.Storage);
        var original = File.ReadAllBytes(Fixtures.Path("stories260k", "llama2c", "stories260K.bin"));
        Assert.True(original.AsSpan(28, 512 * 64 * 4).SequenceEqual(emb.Bytes));
    }

    [Fact]
    public void Baichuan_rope_BF16_safetensors_matches_layout()
    {
        using var reader = CheckpointIndex.Open(Fixtures.Path("baichuan2-tiny-rope"));
        AssertTensors(reader, BaichuanShapes(2, 64, 172, 1200), DType.BF16);
        // Layer norms are 1 + N(0, 0.15²) (README 3.3): checks the BF16 decoding and the offsets.
        var norm = reader.Load("model.layers.0.input_layernorm.weight");
        double mean = Enumerable.Range(0, 64).Average(i => norm.GetFloat(i));
        Assert.InRange(mean, 0.9, 1.1);
        // Names come in storage order: the file stores tensors sorted by name (README 3.4).
        Assert.Equal(reader.Names.Order(StringComparer.Ordinal), reader.Names);
    }

    [Fact]
    public void Baichuan_alibi_F16_sharded_bin_matches_layout_and_values()
    {
        using var reader = CheckpointIndex.Open(Fixtures.Path("baichuan2-tiny-alibi"));
        Assert.IsType<ShardedCheckpointReader>(reader);
        AssertTensors(reader, BaichuanShapes(3, 96, 256, 1200), DType.F16);

        // Values decoded independently with Python (zipfile + struct '<e') from storage '10' of shard 2.
        var norm = reader.Load("model.norm.weight");
        Assert.Equal([5.30078125f, 5.68359375f, 4.53125f, 5.1015625f], Enumerable.Range(0, 4).Select(i => norm.GetFloat(i)));
        Assert.Equal(478.306640625, Enumerable.Range(0, 96).Sum(i => (double)norm.GetFloat(i)), 6);

        // Every tensor's bytes equal one whole storage entry of its shard, as read by System.IO.Compression.
        var index = Fixtures.Json("baichuan2-tiny-alibi", "pytorch_model.bin.index.json");
        var zips = new Dictionary<string, Dictionary<string, byte[]>>();
        foreach (var entry in index.RootElement.GetProperty("weight_map").EnumerateObject())
        {
            string shard = entry.Value.GetString()!;
            if (!zips.TryGetValue(shard, out var files))
                zips[shard] = files = LoadingTestFiles.ReadZip(Fixtures.Path("baichuan2-tiny-alibi", shard));
            var w = reader.Load(entry.Name);
            var bytes = w.Bytes.ToArray();
            Assert.Single(files, f => f.Key.Contains("/data/") && f.Value.AsSpan().SequenceEqual(bytes));
        }

        // Embedding ~ N(0, 0.5²): the F16 decode gives a plausible spread.
        var emb = reader.Load("model.embed_tokens.weight");
        double sq = 0;
        for (int i = 0; i < 1200 * 96; i++) sq += emb.GetFloat(i) * (double)emb.GetFloat(i);
        Assert.InRange(Math.Sqrt(sq / (1200 * 96)), 0.45, 0.55);
    }

    [Fact]
    public void Bible256_BF16_safetensors_matches_table()
    {
        using var reader = CheckpointIndex.Open(Fixtures.Path("baichuan2-bible-256"));
        var expected = BaichuanShapes(4, 256, 768, 1200);
        Assert.Equal(31, expected.Count);
        AssertTensors(reader, expected, DType.BF16);
    }

    [Fact]
    public void Bible256_awq_has_I32_qweight_and_F16_scales()
    {
        using var reader = CheckpointIndex.Open(Fixtures.Path("baichuan2-bible-256-awq-rtn"));
        Assert.Equal(71, reader.Names.Count);
        var linears = new (string Name, long Out, long In)[]
        {
            ("self_attn.W_pack", 768, 256), ("self_attn.o_proj", 256, 256),
            ("mlp.gate_proj", 768, 256), ("mlp.up_proj", 768, 256), ("mlp.down_proj", 256, 768),
        };
        for (int l = 0; l < 4; l++)
        {
            foreach (var (m, outF, inF) in linears)
            {
                string p = $"model.layers.{l}.{m}.";
                Assert.Equal(new TensorInfo(p + "qweight", DType.I32, new Shape(inF, outF / 8)), reader.GetInfo(p + "qweight"));
                Assert.Equal(new TensorInfo(p + "qzeros", DType.I32, new Shape(inF / 128, outF / 8)), reader.GetInfo(p + "qzeros"));
                Assert.Equal(new TensorInfo(p + "scales", DType.F16, new Shape(inF / 128, outF)), reader.GetInfo(p + "scales"));
                Assert.False(reader.Contains(p + "weight"));
            }
        }
        Assert.Equal(DType.F16, reader.GetInfo("lm_head.weight").DType);

        // README worked example: qweight[0][0] of layer 0 W_pack is 0x17739F7A.
        var q = reader.Load("model.layers.0.self_attn.W_pack.qweight");
        Assert.Equal(0x17739F7A, BitConverter.ToInt32(q.Bytes[..4]));
        var vectors = Fixtures.Json("baichuan2-bible-256-awq-rtn", "reference.json").RootElement.GetProperty("unpack_test_vectors");
        var row1 = vectors.GetProperty("qweight_rows_0_1")[1].EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal(row1, Enumerable.Range(0, 96).Select(j => BitConverter.ToInt32(q.Bytes.Slice((96 + j) * 4, 4))));
    }

    [Fact]
    public void Lora_bin_and_safetensors_hold_identical_tensors()
    {
        using var st = CheckpointIndex.OpenFile(Fixtures.Path("lora", "adapter_model.safetensors"));
        using var bin = CheckpointIndex.OpenFile(Fixtures.Path("lora", "adapter_model.bin"));
        Assert.IsType<TorchBinReader>(bin);
        Assert.Equal(20, st.Names.Count);
        Assert.Equal(st.Names.Order(), bin.Names.Order());
        var inFeatures = new Dictionary<string, (long Out, long In)>
        {
            ["self_attn.W_pack"] = (192, 64), ["self_attn.o_proj"] = (64, 64),
            ["mlp.gate_proj"] = (172, 64), ["mlp.up_proj"] = (172, 64), ["mlp.down_proj"] = (64, 172),
        };
        foreach (var name in st.Names)
        {
            var (module, (outF, inF)) = inFeatures.Single(kv => name.Contains("." + kv.Key + "."));
            Assert.StartsWith("base_model.model.model.layers.", name);
            var shape = name.EndsWith(".lora_A.weight") ? new Shape(8, inF) : new Shape(outF, 8);
            Assert.Equal(new TensorInfo(name, DType.F32, shape), st.GetInfo(name));
            Assert.Equal(new TensorInfo(name, DType.F32, shape), bin.GetInfo(name));
            var a = st.Load(name);
            var b = bin.Load(name);
            for (long i = 0; i < shape.NumElements; i++) Assert.Equal(a.GetFloat(i), b.GetFloat(i));
            Assert.NotEqual(0f, Enumerable.Range(0, 8).Sum(i => Math.Abs(a.GetFloat(i)))); // B is non-zero too
        }
    }

    [Fact]
    public void Single_pytorch_model_bin_reads_its_folder_name_from_the_zip()
    {
        using var dir = new TempDir();
        File.Copy(Fixtures.Path("baichuan2-tiny-alibi", "pytorch_model-00001-of-00002.bin"), dir.File("pytorch_model.bin"));
        using var single = CheckpointIndex.Open(dir.Path);
        Assert.IsType<TorchBinReader>(single);
        using var sharded = CheckpointIndex.Open(Fixtures.Path("baichuan2-tiny-alibi"));
        var index = Fixtures.Json("baichuan2-tiny-alibi", "pytorch_model.bin.index.json");
        var inShard1 = index.RootElement.GetProperty("weight_map").EnumerateObject()
            .Where(p => p.Value.GetString() == "pytorch_model-00001-of-00002.bin").Select(p => p.Name).Order().ToList();
        Assert.Equal(inShard1, single.Names.Order());
        foreach (var name in inShard1)
        {
            Assert.Equal(sharded.GetInfo(name), single.GetInfo(name));
            Assert.True(sharded.Load(name).Bytes.SequenceEqual(single.Load(name).Bytes));
        }
    }

    [Fact]
    public void Deflated_bin_is_inflated_into_native_memory()
    {
        using var dir = new TempDir();
        string path = dir.File("adapter_model.bin");
        // Same entries as the fixture, but compressed (torch writes stored entries; other tools may not).
        LoadingTestFiles.WriteZip(path, LoadingTestFiles.ReadZip(Fixtures.Path("lora", "adapter_model.bin")).Select(kv => (kv.Key, kv.Value)), compress: true);
        using var deflated = CheckpointIndex.OpenFile(path);
        using var stored = CheckpointIndex.OpenFile(Fixtures.Path("lora", "adapter_model.bin"));
        foreach (var name in stored.Names)
        {
            var w = deflated.Load(name);
            Assert.IsType<NativeWeightStorage>(w.Storage);
            Assert.True(stored.Load(name).Bytes.SequenceEqual(w.Bytes));
        }
    }
}
