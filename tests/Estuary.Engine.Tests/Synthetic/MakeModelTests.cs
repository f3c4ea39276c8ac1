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
