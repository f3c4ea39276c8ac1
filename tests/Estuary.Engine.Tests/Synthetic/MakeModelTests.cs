// End-to-end tests of MakeModel: the written folders load as a tokenizer and as an engine and generate.
using Estuary.Engine.Synthetic;
using Estuary.Models.Config;
using Estuary.Models.Synthetic;
using Estuary.Tokenization;

namespace Estuary.Engine.Tests.Synthetic;

public sealed class MakeModelTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("estuary-makemodel-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("tiny-llama", "bf16", PositionEncoding.Rope, true)]
    [InlineData("tiny-mistral", "bf16", PositionEncoding.Rope, true)]
    [InlineData("tiny-baichuan-rope", "float16", PositionEncoding.Rope, false)]
    [InlineData("tiny-baichuan-alibi", "f32", PositionEncoding.Alibi, false)]
    public void TinyModelsLoadTokenizeAndGenerate(string name, string dtype, PositionEncoding encoding, bool addsBos)
    {
        var dir = Path.Combine(_root, name);
        var shape = MakeModel.Run(name, dtype, dir, seed: 42, overwrite: false);
        Assert.Equal(name, shape.Name);

        var tok = TextTokenizer.Load(dir);
        Assert.Equal(shape.VocabSize, tok.VocabSize);
        Assert.Equal(addsBos, tok.AddBos);
        Assert.Equal(1, tok.BosId);
        Assert.Equal(2, tok.EosId);
        const string text = "Once upon a time, the little dog said \"hi\" to the cat. 你好";
        Assert.Equal(text, tok.Decode(tok.Encode(text)));
        Assert.Equal(encoding, ModelConfig.Load(dir).PositionEncoding);

        using var llm = Llm.Load(dir, new EngineConfig { NumThreads = 2 });
        var results = llm.Generate(["Once upon a time", "The"], SamplingParams.Greedy(5) with { IgnoreEos = true });
        Assert.Equal(2, results.Count);
        Assert.All(results, r => Assert.Equal(5, r.OutputIds.Length));
        Assert.All(results, r => Assert.All(r.OutputIds, id => Assert.InRange(id, 0, shape.VocabSize - 1)));
        Assert.Equal(tok.Encode("The"), results[1].PromptIds);
        // Greedy decoding of a fixed model is reproducible.
        var again = llm.Generate(["Once upon a time"], SamplingParams.Greedy(5) with { IgnoreEos = true });
        Assert.Equal(results[0].OutputIds, again[0].OutputIds);
    }

    [Fact]
    public void AByteLevelShapeGetsALlama3TokenizerThatLoadsChatsAndStopsAtEot()
    {
        // tiny-llama with Llama 3's tokenizer layout at a small vocabulary: 1792 BPE tokens, then the 256 special ones.
        var shape = ModelShapes.Get("tiny-llama") with { Name = "tiny-llama3", VocabSize = 2048, Tokenizer = SyntheticTokenizer.ByteLevel };
        var dir = Path.Combine(_root, "l3");
        MakeModel.Run(shape, "bf16", dir, seed: 42, overwrite: false);
        Assert.Equal(["config.json", "generation_config.json", "model.safetensors", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"],
            Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        var tok = TextTokenizer.Load(dir);
        Assert.True(tok.IsByteLevel);
        Assert.Equal(2048, tok.VocabSize);
        Assert.Equal((1792, 1801), (tok.BosId, tok.EosId));
        Assert.Equal(1792, ModelConfig.Load(dir).BosTokenId);
        const string text = "Once upon a time, the little dog said \"hi\" to the cat. 你好 🦙\n";
        Assert.Equal(text, tok.Decode(tok.Encode(text)));

        using var llm = Llm.Load(dir, new EngineConfig { NumThreads = 2 });
        Assert.Equal([1793, 1800, 1801], llm.Engine.EosTokenIds.Order());
        var results = llm.Generate(["Once upon a time"], SamplingParams.Greedy(5) with { IgnoreEos = true });
        Assert.Equal(tok.Encode("Once upon a time"), results[0].PromptIds);
        Assert.Equal(1792, results[0].PromptIds[0]);
        Assert.Equal(5, results[0].OutputIds.Length);
        Assert.All(results[0].OutputIds, id => Assert.InRange(id, 0, 2047));

        // The chat template's prompt, and a reply pushed onto <|eot_id|> stops there.
        var format = ChatFormats.ForModel(dir, tok);
        var prompt = format.BuildPrompt([new ChatMessage("user", "Hello")], maxNewTokens: 8);
        Assert.Equal([1792, 1798, .. tok.Encode("user", false), 1799, .. tok.Encode("\n\nHello", false), 1801, 1798, .. tok.Encode("assistant", false), 1799,
            .. tok.Encode("\n\n", false)], prompt);
        var stopped = llm.Generate([prompt], SamplingParams.Greedy(8) with { LogitBias = new Dictionary<int, float> { [1801] = 100 } });
        Assert.Equal(FinishReason.Stop, stopped[0].FinishReason);
        Assert.Equal([1801], stopped[0].OutputIds);
        Assert.Equal("", stopped[0].Text);

        // The same arguments write the same folder.
        MakeModel.Run(shape, "bfloat16", Path.Combine(_root, "l3-again"), seed: 42, overwrite: false);
        foreach (var f in Directory.GetFiles(dir).Select(Path.GetFileName))
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir, f!)), File.ReadAllBytes(Path.Combine(_root, "l3-again", f!)));
    }

    [Theory]
    [InlineData("qwen2.5-7b")]
    [InlineData("qwen3-8b")]
    public void AQwenShapeGetsQwensTokenizerLayoutLoadsChatsAndStopsAtImEnd(string preset)
    {
        // The preset's architecture and tokenizer at a small width: Qwen's tokenizer layout fixes the special ids at 151643…, so the
        // vocabulary stays the preset's (the embedding padded past the last special token, as Qwen's is).
        var shape = ModelShapes.Get(preset) with { HiddenSize = 64, NumLayers = 2, NumHeads = 4, NumKvHeads = 2, IntermediateSize = 128 };
        var dir = Path.Combine(_root, preset);
        MakeModel.Run(shape, "bf16", dir, seed: 42, overwrite: false);
        var config = ModelConfig.Load(dir);
        Assert.Equal(preset == "qwen3-8b" ? "Qwen3ForCausalLM" : "Qwen2ForCausalLM", config.Architecture);
        Assert.Equal(preset == "qwen3-8b", config.Variant.QkNorm);
        Assert.Equal(preset != "qwen3-8b", config.Variant.QkvBias);
        Assert.Equal(151643, config.BosTokenId);

        var tok = TextTokenizer.Load(dir);
        Assert.True(tok.IsByteLevel);
        Assert.Equal(151645, tok.EosId);
        Assert.Equal(preset == "qwen3-8b" ? 151669 : 151665, tok.VocabSize);
        const string text = "Once upon a time, the little dog said \"hi\" to the cat 2026 times. 你好 🦙\n";
        var ids = tok.Encode(text);
        Assert.Equal(text, tok.Decode(ids));
        Assert.DoesNotContain(151643, ids); // no BOS is added
        Assert.Equal(tok.Encode("caf\u00e9", false), tok.Encode("cafe\u0301", false)); // NFC first, as Qwen's tokenizer.json does

        using var llm = Llm.Load(dir, new EngineConfig { NumThreads = 2, MaxModelLen = 256 });
        Assert.Contains(151645, llm.Engine.EosTokenIds);
        var format = ChatFormats.ForModel(dir, tok);
        var prompt = format.BuildPrompt([new ChatMessage("user", "Hello")], maxNewTokens: 8);
        Assert.Equal([151644, .. tok.Encode("user\nHello", false), 151645, .. tok.Encode("\n", false), 151644, .. tok.Encode("assistant\n", false)], prompt);
        var stopped = llm.Generate([prompt], SamplingParams.Greedy(8) with { LogitBias = new Dictionary<int, float> { [151645] = 100 } });
        Assert.Equal(FinishReason.Stop, stopped[0].FinishReason);
        Assert.Equal([151645], stopped[0].OutputIds);
        var free = llm.Generate([prompt], SamplingParams.Greedy(4) with { IgnoreEos = true });
        Assert.Equal(4, free[0].OutputIds.Length);
    }

    [Fact]
    public void ASentencePieceFolderIsReplacedByAByteLevelOneWithoutItsTokenizerModel()
    {
        // tokenizer.model would win over tokenizer.json when loading, so overwrite must not carry the old one.
        var dir = Path.Combine(_root, "swap");
        MakeModel.Run("tiny-llama", "f32", dir, 0, overwrite: false);
        MakeModel.Run(ModelShapes.Get("tiny-llama") with { VocabSize = 600, Tokenizer = SyntheticTokenizer.ByteLevel }, "f32", dir, 0, overwrite: true);
        Assert.False(File.Exists(Path.Combine(dir, "tokenizer.model")));
        Assert.True(TextTokenizer.Load(dir).IsByteLevel);
        MakeModel.Run("tiny-llama", "f32", dir, 0, overwrite: true);
        Assert.False(File.Exists(Path.Combine(dir, "tokenizer.json")));
        Assert.Equal(1, TextTokenizer.Load(dir).BosId);
    }

    [Fact]
    public void SameArgumentsWriteIdenticalFolders()
    {
        MakeModel.Run("tiny-llama", "bf16", Path.Combine(_root, "a"), seed: 3, overwrite: false);
        MakeModel.Run("TINY-LLAMA", "bfloat16", Path.Combine(_root, "b"), seed: 3, overwrite: false);
        var names = Directory.GetFiles(Path.Combine(_root, "a")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Contains("tokenizer.model", names);
        Assert.Equal(names, Directory.GetFiles(Path.Combine(_root, "b")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var n in names)
            Assert.Equal(File.ReadAllBytes(Path.Combine(_root, "a", n!)), File.ReadAllBytes(Path.Combine(_root, "b", n!)));
    }

    [Fact]
    public void BadArgumentsAndBusyFoldersAreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => MakeModel.Run("llama-9000", "bf16", Path.Combine(_root, "x"), 0, false));
        Assert.Contains("tiny-baichuan-alibi", e.Message);
        Assert.Throws<ArgumentException>(() => MakeModel.Run("tiny-llama", "fp8", Path.Combine(_root, "x"), 0, false));
        Assert.Throws<ArgumentException>(() => MakeModel.Run("tiny-llama", "int8", Path.Combine(_root, "x"), 0, false));
        Assert.False(Directory.Exists(Path.Combine(_root, "x")));

        var dir = Path.Combine(_root, "busy");
        MakeModel.Run("tiny-llama", "bf16", dir, 0, overwrite: false);
        Assert.Throws<IOException>(() => MakeModel.Run("tiny-baichuan-rope", "bf16", dir, 0, overwrite: false));
        Assert.Equal("LlamaForCausalLM", ModelConfig.Load(dir).Architecture);
        MakeModel.Run("tiny-baichuan-rope", "bf16", dir, 0, overwrite: true);
        Assert.Equal("BaichuanForCausalLM", ModelConfig.Load(dir).Architecture);
        Assert.False(TextTokenizer.Load(dir).AddBos);
    }

    [Fact]
    public void FailureMidWriteLeavesTheFolderAsItWas()
    {
        var fresh = Path.Combine(_root, "fresh");
        Assert.Throws<IOException>(() => MakeModel.Run("tiny-llama", "bf16", fresh, 0, false, new SyncProgress(p => FailAt(p.Item1, 4))));
        Assert.False(Directory.Exists(fresh));

        var dir = Path.Combine(_root, "old");
        MakeModel.Run("tiny-baichuan-rope", "bf16", dir, 0, overwrite: false);
        var before = Directory.GetFiles(dir).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
        Assert.Contains("tokenizer.model", before.Keys);
        Assert.Throws<IOException>(() => MakeModel.Run("tiny-llama", "f32", dir, 0, overwrite: true, new SyncProgress(p => FailAt(p.Item1, p.Item2))));
        Assert.Equal(before, Directory.GetFiles(dir).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes));
        Assert.Equal("BaichuanForCausalLM", ModelConfig.Load(dir).Architecture);
        Assert.Equal(["old"], Directory.GetFileSystemEntries(_root).Select(Path.GetFileName)); // no staging or moved-aside folder
    }

    // Like a disk filling up once the given tensor is written.
    private static void FailAt(int done, int at)
    {
        if (done >= at) throw new IOException("No space left on device (injected)");
    }

    [Fact]
    public void ProgressCountsEveryTensor()
    {
        var seen = new List<(int Done, int Total)>();
        MakeModel.Run("tiny-baichuan-alibi", "bf16", Path.Combine(_root, "p"), 0, false, new SyncProgress(seen.Add));
        int count = 3 + 7 * ModelShapes.Get("tiny-baichuan-alibi").NumLayers;
        Assert.Equal(Enumerable.Range(1, count).Select(i => (i, count)), seen);
    }

    private sealed class SyncProgress(Action<(int, int)> report) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => report(value);
    }
}
