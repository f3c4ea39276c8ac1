// make-model's and make-lora's writers fail without leaving half a folder: a failure part-way through leaves the target as it was
// (absent, or the old model byte for byte under overwrite), and bad arguments or targets are refused before anything is written.
using Estuary.Models.Synthetic;
using Estuary.Tensors;

namespace Estuary.Models.Tests.Synthetic;

public sealed class SyntheticWriterFailureTests : IDisposable
{
    private static readonly ModelShape s_llama = ModelShapes.Get("tiny-llama"); // hidden 128, kv 2 × 32 = 64, intermediate 256
    private readonly string _root = Directory.CreateTempSubdirectory("estuary-synth-fail-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Dir(string name) => Path.Combine(_root, name);

    private static Dictionary<string, byte[]> Snapshot(string dir) =>
        Directory.EnumerateFiles(dir).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    private string[] RootEntries() => [.. Directory.EnumerateFileSystemEntries(_root).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    /// <summary>Progress that throws once <paramref name="after"/> tensors are written, like a disk filling up mid-file.</summary>
    private sealed class FailAfter(int after) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value)
        {
            if (value.Done >= after) throw new IOException("No space left on device (injected)");
        }
    }

    [Fact]
    public void FailureMidWriteLeavesNoFolder()
    {
        Assert.Throws<IOException>(() => RandomModelWriter.Write(s_llama, DType.F32, Dir("m"), seed: 0, progress: new FailAfter(5)));
        // After every file, in the last step (the tokenizer of make-model).
        Assert.Throws<IOException>(() => RandomModelWriter.Write(s_llama, DType.F32, Dir("m"), seed: 0,
            alsoWrite: dir => throw new IOException($"injected after {Directory.GetFiles(dir).Length} files")));
        Assert.Empty(RootEntries());
    }

    [Fact]
    public void FailureMidOverwriteLeavesTheOldModelByteForByte()
    {
        var dir = Dir("m");
        RandomModelWriter.Write(ModelShapes.Get("tiny-baichuan-rope"), DType.BF16, dir, seed: 3, maxShardBytes: 300_000);
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "keep me");
        var before = Snapshot(dir);
        Assert.Contains("model.safetensors.index.json", before.Keys);

        Assert.Throws<IOException>(() => RandomModelWriter.Write(s_llama, DType.F32, dir, seed: 0, progress: new FailAfter(7), overwrite: true));
        Assert.Equal(before, Snapshot(dir));
        Assert.Throws<IOException>(() => RandomModelWriter.Write(s_llama, DType.F32, dir, seed: 0, overwrite: true,
            alsoWrite: _ => throw new IOException("injected")));
        Assert.Equal(before, Snapshot(dir));
        Assert.Equal(["m"], RootEntries());
    }

    [Fact]
    public void BusyFolderAndAFileInThePathAreRefusedNamingTheProblem()
    {
        var dir = Directory.CreateDirectory(Dir("busy")).FullName;
        File.WriteAllText(Path.Combine(dir, "x"), "x");
        var e = Assert.Throws<IOException>(() => RandomModelWriter.Write(s_llama, DType.F32, dir, seed: 0));
        Assert.Contains("not empty; pass --overwrite", e.Message);

        var file = Dir("afile");
        File.WriteAllText(file, "x");
        e = Assert.Throws<IOException>(() => RandomModelWriter.Write(s_llama, DType.F32, Path.Combine(file, "sub"), seed: 0));
        Assert.Contains($"'{file}' is a file, not a folder", e.Message);
        e = Assert.Throws<IOException>(() => RandomModelWriter.Write(s_llama, DType.F32, file, seed: 0, overwrite: true));
        Assert.Contains("is a file, not a folder", e.Message);
        Assert.Equal(["afile", "busy"], RootEntries());
        Assert.Equal(["x"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    [InlineData(0f)]
    [InlineData(-8f)]
    public void LoraAlphaMustBeFiniteAndPositive(float alpha)
    {
        RandomModelWriter.Write(s_llama, DType.F32, Dir("model"), seed: 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => RandomLoraWriter.Write(Dir("model"), Dir("adapter"), rank: 4, alpha, seed: 0));
        Assert.Equal("alpha", e.ParamName);
        Assert.Contains("finite number greater than 0", e.Message);
        Assert.Equal(["model"], RootEntries());
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(50_000_000)]
    [InlineData(65)]
    public void LoraRankAboveTheSmallestProjectionIsRefusedBeforeWriting(int rank)
    {
        RandomModelWriter.Write(s_llama, DType.F32, Dir("model"), seed: 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => RandomLoraWriter.Write(Dir("model"), Dir("adapter"), rank, alpha: 16, seed: 0));
        Assert.Contains($"rank {rank} is larger than 64", e.Message);
        Assert.Contains("k_proj: 128 in, 64 out", e.Message);
        Assert.Equal(["model"], RootEntries());

        Assert.Equal(14, RandomLoraWriter.Write(Dir("model"), Dir("adapter"), rank: 64, alpha: 16, seed: 0)); // the bound itself is fine
        Assert.Equal(["adapter_config.json", "adapter_model.safetensors"], Directory.GetFiles(Dir("adapter")).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void LoraIntoANonEmptyFolderIsRefusedAndLeavesItAlone()
    {
        RandomModelWriter.Write(s_llama, DType.F32, Dir("model"), seed: 1);
        RandomLoraWriter.Write(Dir("model"), Dir("adapter"), rank: 4, alpha: 8, seed: 0);
        var before = Snapshot(Dir("adapter"));
        var e = Assert.Throws<IOException>(() => RandomLoraWriter.Write(Dir("model"), Dir("adapter"), rank: 8, alpha: 8, seed: 1));
        Assert.Contains("not empty", e.Message);
        Assert.Equal(before, Snapshot(Dir("adapter")));
        Assert.Equal(["adapter", "model"], RootEntries());
    }
}
