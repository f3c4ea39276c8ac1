// Tests of the synthetic checkpoint writer: tiny presets load through the real loader and run a forward pass; output is deterministic,
// dtype-correct, shardable, statistically as documented, and never clobbers a folder by accident.
using System.Text.Json.Nodes;
using Estuary.Backend.Cpu;
using Estuary.Models.Config;
using Estuary.Models.Loading;
using Estuary.Models.Synthetic;
using Estuary.Models.Tests.Architectures;
using Estuary.Tensors;

namespace Estuary.Models.Tests.Synthetic;

public sealed class RandomModelWriterTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("estuary-randmodel-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Dir(string name) => Path.Combine(_root, name);

    public static TheoryData<string, PositionEncoding> TinyShapes => new()
    {
        { "tiny-llama", PositionEncoding.Rope },
        { "tiny-mistral", PositionEncoding.Rope },
        { "tiny-baichuan-rope", PositionEncoding.Rope },
        { "tiny-baichuan-alibi", PositionEncoding.Alibi },
    };

    [Theory]
    [MemberData(nameof(TinyShapes))]
    public void TinyShapeLoadsWithItsPositionEncodingAndRunsForward(string name, PositionEncoding encoding)
    {
        var shape = ModelShapes.Get(name);
        var dir = Dir(name);
        RandomModelWriter.Write(shape, DType.BF16, dir, seed: 7);

        Assert.True(File.Exists(Path.Combine(dir, "model.safetensors")));
        Assert.False(File.Exists(Path.Combine(dir, ShardedSafetensorsWriter.IndexFileName)));
        foreach (var f in new[] { "config.json", "generation_config.json", "tokenizer_config.json", "special_tokens_map.json" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);

        using (var harness = new ModelHarness(dir))
        {
            var c = harness.Model.Config;
            Assert.Equal(encoding, c.PositionEncoding);
            Assert.Equal(shape.HiddenSize, c.HiddenSize);
            Assert.Equal(shape.NumLayers, c.NumLayers);
            Assert.Equal(shape.NumHeads, c.NumHeads);
            Assert.Equal(shape.NumKvHeads, c.NumKvHeads);
            Assert.Equal(shape.IntermediateSize, c.IntermediateSize);
            Assert.Equal(shape.VocabSize, c.VocabSize);
            Assert.Equal(shape.Family == ModelFamily.Baichuan, c.FusedQkv);
            Assert.Equal(shape.Family switch { ModelFamily.Mistral => "MistralForCausalLM", ModelFamily.Baichuan => "BaichuanForCausalLM", _ => "LlamaForCausalLM" },
                c.Architecture);
            Assert.Equal(0, c.Variant.SlidingWindow);
            Assert.False(c.TieWordEmbeddings);
            Assert.Equal("bfloat16", c.TorchDtype);
            Assert.Equal(1, c.BosTokenId);
            Assert.Equal([2], c.EosTokenIds);
            Assert.Equal(shape.NumLayers, harness.Model.Layers.Count);

            var logits = harness.AllLogits([1, 5, 300, 400, 17, 42]);
            Assert.All(logits, row => Assert.All(row, v => Assert.True(float.IsFinite(v))));
            Assert.Equal(shape.VocabSize, logits[0].Length);
            Assert.NotEqual(logits[0], logits[^1]); // positions and inputs change the output
        }

        var generation = GenerationConfig.Load(dir);
        if (shape.Family == ModelFamily.Baichuan)
        {
            Assert.Equal(195, generation.UserTokenId);
            Assert.Equal(196, generation.AssistantTokenId);
            var config = ReadJson(dir, "config.json");
            Assert.Equal("BaichuanTokenizer", (string?)config["tokenizer_class"]);
            Assert.NotNull(config["auto_map"]);
            Assert.Equal(encoding == PositionEncoding.Rope, config.ContainsKey("max_position_embeddings"));
            Assert.Equal(512, (int?)config["model_max_length"]);
        }
        else
        {
            Assert.False(generation.DoSample);
            Assert.Equal(512, ReadJson(dir, "config.json")["max_position_embeddings"]!.GetValue<int>());
        }
    }

    [Fact]
    public void TensorNamesShapesAndDtypesFollowTheHuggingFaceLayout()
    {
        var shape = ModelShapes.Get("tiny-llama");
        RandomModelWriter.Write(shape, DType.F16, Dir("llama"), seed: 1);
        using (var reader = CheckpointIndex.Open(Dir("llama")))
        {
            Assert.Equal(3 + 9 * shape.NumLayers, reader.Names.Count);
            Assert.Equal(new TensorInfo("model.layers.1.self_attn.k_proj.weight", DType.F16, new Shape(2 * 32, 128)),
                reader.GetInfo("model.layers.1.self_attn.k_proj.weight"));
            Assert.Equal(new Shape(512, 128), reader.GetInfo("lm_head.weight").Shape);
            Assert.Equal(new Shape(128, 256), reader.GetInfo("model.layers.0.mlp.down_proj.weight").Shape);
            Assert.All(reader.Names, n => Assert.Equal(DType.F16, reader.GetInfo(n).DType));
            long parameters = reader.Names.Sum(n => reader.GetInfo(n).Shape.NumElements);
            Assert.Equal(shape.ParameterCount, parameters);
        }

        var baichuan = ModelShapes.Get("tiny-baichuan-alibi");
        RandomModelWriter.Write(baichuan, DType.F32, Dir("baichuan"), seed: 1);
        using (var reader = CheckpointIndex.Open(Dir("baichuan")))
        {
            Assert.Equal(3 + 7 * baichuan.NumLayers, reader.Names.Count);
            Assert.Equal(new Shape(3 * 96, 96), reader.GetInfo("model.layers.0.self_attn.W_pack.weight").Shape);
            Assert.False(reader.Contains("model.layers.0.self_attn.q_proj.weight"));
            Assert.Equal(baichuan.ParameterCount, reader.Names.Sum(n => reader.GetInfo(n).Shape.NumElements));
        }
    }

    [Fact]
    public unsafe void WeightsHaveTheDocumentedStatistics()
    {
        RandomModelWriter.Write(ModelShapes.Get("tiny-llama"), DType.F32, Dir("stats"), seed: 3);
        using var reader = CheckpointIndex.Open(Dir("stats"));
        (double Mean, double Std, float Max) Stats(string name)
        {
            var w = reader.Load(name);
            var values = new ReadOnlySpan<float>((void*)w.Pointer, (int)w.Shape.NumElements);
            double sum = 0, sq = 0;
            float max = 0;
            foreach (var v in values) { sum += v; sq += (double)v * v; max = Math.Max(max, Math.Abs(v)); }
            double mean = sum / values.Length;
            return (mean, Math.Sqrt(sq / values.Length - mean * mean), max);
        }
        var embed = Stats("model.embed_tokens.weight");
        Assert.InRange(embed.Mean, -0.001, 0.001);
        Assert.InRange(embed.Std, 0.019, 0.021);
        Assert.True(embed.Max < 0.08f);
        var norm = Stats("model.layers.0.input_layernorm.weight");
        Assert.InRange(norm.Mean, 0.99, 1.01);
        // Different tensors get different streams.
        var q = reader.Load("model.layers.0.self_attn.q_proj.weight");
        var k = reader.Load("model.layers.0.self_attn.k_proj.weight");
        Assert.NotEqual(new ReadOnlySpan<float>((void*)q.Pointer, 64).ToArray(), new ReadOnlySpan<float>((void*)k.Pointer, 64).ToArray());
    }

    [Fact]
    public void SameSeedWritesIdenticalBytesAndAnotherSeedDoesNot()
    {
        var shape = ModelShapes.Get("tiny-baichuan-rope");
        RandomModelWriter.Write(shape, DType.BF16, Dir("a"), seed: 11);
        RandomModelWriter.Write(shape, DType.BF16, Dir("b"), seed: 11);
        RandomModelWriter.Write(shape, DType.BF16, Dir("c"), seed: 12);
        var files = Directory.GetFiles(Dir("a")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(files, Directory.GetFiles(Dir("b")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var f in files)
            Assert.Equal(File.ReadAllBytes(Path.Combine(Dir("a"), f!)), File.ReadAllBytes(Path.Combine(Dir("b"), f!)));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(Dir("a"), "model.safetensors")), File.ReadAllBytes(Path.Combine(Dir("c"), "model.safetensors")));
    }

    [Theory]
    [InlineData(DType.F32, "float32")]
    [InlineData(DType.F16, "float16")]
    [InlineData(DType.BF16, "bfloat16")]
    public void DtypeIsStoredAndNamedInConfig(DType dtype, string torchName)
    {
        RandomModelWriter.Write(ModelShapes.Get("tiny-llama"), dtype, Dir("d"), seed: 0);
        Assert.Equal(torchName, (string?)ReadJson(Dir("d"), "config.json")["torch_dtype"]);
        Assert.Equal(torchName, ModelConfig.Load(Dir("d")).TorchDtype);
        using var reader = CheckpointIndex.Open(Dir("d"));
        Assert.Equal(dtype, reader.GetInfo("model.norm.weight").DType);
        long expectedBytes = ModelShapes.Get("tiny-llama").ParameterCount * dtype.SizeOf();
        Assert.InRange(new FileInfo(Path.Combine(Dir("d"), "model.safetensors")).Length, expectedBytes, expectedBytes + 16384);
    }

    [Fact]
    public void SmallShardSizeWritesShardsAndIndexThatLoad()
    {
        var shape = ModelShapes.Get("tiny-llama");
        var progress = new List<(int Done, int Total)>();
        RandomModelWriter.Write(shape, DType.F32, Dir("sharded"), seed: 5, maxShardBytes: 600_000, progress: new SyncProgress(progress.Add));
        Assert.False(File.Exists(Path.Combine(Dir("sharded"), "model.safetensors")));
        var index = ReadJson(Dir("sharded"), ShardedSafetensorsWriter.IndexFileName);
        Assert.Equal(shape.ParameterCount * 4, (long)index["metadata"]!["total_size"]!);
        var shards = Directory.GetFiles(Dir("sharded"), "model-*-of-*.safetensors");
        Assert.True(shards.Length >= 2, $"{shards.Length} shards");
        Assert.All(shards, s => Assert.True(new FileInfo(s).Length < 600_000 + 8192 || s.Contains("00001"), s));

        int count = 3 + 9 * shape.NumLayers;
        Assert.Equal(Enumerable.Range(1, count).Select(i => (i, count)), progress);

        // Same seed, single file: identical tensor bytes whatever the sharding.
        RandomModelWriter.Write(shape, DType.F32, Dir("single"), seed: 5);
        using var sharded = CheckpointIndex.Open(Dir("sharded"));
        using var single = CheckpointIndex.Open(Dir("single"));
        Assert.Equal(Bytes(single, "lm_head.weight"), Bytes(sharded, "lm_head.weight"));
        using var harness = new ModelHarness(Dir("sharded"));
        Assert.Equal(shape.NumLayers, harness.Model.Layers.Count);
    }

    [Fact]
    public void NonEmptyFolderIsRefusedUnlessOverwriteAndOverwriteRemovesStaleCheckpoints()
    {
        var dir = Dir("busy");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "keep me");
        var shape = ModelShapes.Get("tiny-llama");
        var e = Assert.Throws<IOException>(() => RandomModelWriter.Write(shape, DType.BF16, dir, seed: 0));
        Assert.Contains("not empty", e.Message);
        Assert.Contains("overwrite", e.Message);
        Assert.Equal(["notes.txt"], Directory.GetFiles(dir).Select(Path.GetFileName));

        // A sharded model first, then a single-file one over it: the old shards and index must go, or they would confuse loaders.
        RandomModelWriter.Write(shape, DType.F32, dir, seed: 0, maxShardBytes: 600_000, overwrite: true);
        Assert.True(File.Exists(Path.Combine(dir, ShardedSafetensorsWriter.IndexFileName)));
        RandomModelWriter.Write(shape, DType.BF16, dir, seed: 0, overwrite: true);
        Assert.False(File.Exists(Path.Combine(dir, ShardedSafetensorsWriter.IndexFileName)));
        Assert.Empty(Directory.GetFiles(dir, "model-*"));
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(dir, "notes.txt")));
        Assert.Equal("bfloat16", ModelConfig.Load(dir).TorchDtype);
        Assert.Empty(Directory.GetFiles(dir, "*.tmp").Concat(Directory.GetFiles(dir, ".*")));
    }

    [Fact]
    public void ATiedLlama3ShapeWritesNoLmHeadCarriesRopeScalingAndRuns()
    {
        // tiny-llama with the Llama 3.2 layout: tied embeddings, rope_theta 500000 and llama3 scaling (original 64 positions).
        var shape = ModelShapes.Get("tiny-llama") with
        {
            Name = "tiny-llama3", TieWordEmbeddings = true, RopeTheta = 500000, RopeScaling = RopeScaling.Llama3(32, 1, 4, 64),
        };
        RandomModelWriter.Write(shape, DType.BF16, Dir("l3"), seed: 2);
        var config = ReadJson(Dir("l3"), "config.json");
        Assert.True((bool)config["tie_word_embeddings"]!);
        Assert.Equal("llama3", (string?)config["rope_scaling"]!["rope_type"]);
        using (var reader = CheckpointIndex.Open(Dir("l3")))
        {
            Assert.False(reader.Contains("lm_head.weight"));
            Assert.Equal(shape.ParameterCount, reader.Names.Sum(n => reader.GetInfo(n).Shape.NumElements));
        }
        using var harness = new ModelHarness(Dir("l3"));
        Assert.Equal(shape.RopeScaling, harness.Model.Config.RopeScaling);
        Assert.True(harness.Model.Config.TieWordEmbeddings);
        var logits = harness.AllLogits([1, 5, 300, 400, 17, 42]);
        Assert.All(logits, row => Assert.All(row, v => Assert.True(float.IsFinite(v))));
    }

    [Fact]
    public void AByteLevelShapeNamesLlama3SpecialIdsAndLeavesTheTokenizerConfigsToItsTokenizer()
    {
        var shape = ModelShapes.Get("tiny-llama") with { Name = "tiny-llama3-bytes", VocabSize = 1000, Tokenizer = SyntheticTokenizer.ByteLevel };
        RandomModelWriter.Write(shape, DType.BF16, Dir("bytes"), seed: 4);
        Assert.Equal(["config.json", "generation_config.json", "model.safetensors"],
            Directory.GetFiles(Dir("bytes")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var config = ModelConfig.Load(Dir("bytes"));
        Assert.Equal(744, config.BosTokenId); // the first of the 256 special tokens after the 744 BPE tokens
        Assert.Equal([745, 752, 753], config.EosTokenIds);
        var generation = GenerationConfig.Load(Dir("bytes"));
        Assert.Equal(744, generation.BosTokenId);
        Assert.Equal([745, 752, 753], generation.EosTokenIds);
        Assert.False(generation.DoSample);
        Assert.Equal("[745,752,753]", ReadJson(Dir("bytes"), "config.json")["eos_token_id"]!.ToJsonString());

        // The SentencePiece shape beside it keeps <s> = 1 and </s> = 2.
        Assert.Equal(1, (int)RandomModelWriter.BuildConfig(shape with { Tokenizer = SyntheticTokenizer.SentencePiece }, DType.BF16)["bos_token_id"]!);
    }

    [Fact]
    public void AByteLevelShapeThatIsNotALlamaOrTooSmallIsRefused()
    {
        var baichuan = ModelShapes.Get("tiny-baichuan-rope") with { Tokenizer = SyntheticTokenizer.ByteLevel };
        Assert.Contains("only a Llama or Phi-3 shape gets a byte-level tokenizer", Assert.Throws<ArgumentException>(() =>
            RandomModelWriter.Write(baichuan, DType.F32, Dir("b"), seed: 0)).Message);
        var small = ModelShapes.Get("tiny-llama") with { VocabSize = 511, Tokenizer = SyntheticTokenizer.ByteLevel };
        Assert.Contains("at least 512 tokens", Assert.Throws<ArgumentException>(() =>
            RandomModelWriter.Write(small, DType.F32, Dir("s"), seed: 0)).Message);
        Assert.False(Directory.Exists(Dir("b")));
        Assert.False(Directory.Exists(Dir("s")));
    }

    [Fact]
    public void ABaichuanShapeWithTiedEmbeddingsOrRopeScalingIsRefused()
    {
        var baichuan = ModelShapes.Get("tiny-baichuan-rope");
        Assert.Contains("neither tied embeddings nor RoPE scaling", Assert.Throws<ArgumentException>(() =>
            RandomModelWriter.Write(baichuan with { TieWordEmbeddings = true }, DType.F32, Dir("b1"), seed: 0)).Message);
        Assert.Contains("neither tied embeddings nor RoPE scaling", Assert.Throws<ArgumentException>(() =>
            RandomModelWriter.Write(baichuan with { RopeScaling = RopeScaling.Linear(2) }, DType.F32, Dir("b2"), seed: 0)).Message);
        Assert.False(Directory.Exists(Dir("b1")));
    }

    [Fact]
    public void RefusesNonFloatDtype() =>
        Assert.Throws<ArgumentException>(() => RandomModelWriter.Write(ModelShapes.Get("tiny-llama"), DType.I8, Dir("i8"), seed: 0));

    private static byte[] Bytes(ICheckpointReader reader, string name)
    {
        var w = reader.Load(name);
        unsafe
        {
            return new ReadOnlySpan<byte>((void*)w.Pointer, (int)w.ByteLength).ToArray();
        }
    }

    private static JsonObject ReadJson(string dir, string name) => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, name)))!;

    // Progress<T> posts to the thread pool; this one reports synchronously so the sequence can be asserted.
    private sealed class SyncProgress(Action<(int, int)> report) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => report(value);
    }
}
