// Tests of StagedOutputFolder, the one way model folders are written: a build step that fails part-way (after writing some files)
// leaves the target exactly as it was — absent, or with its old contents under overwrite — and no temporary folder; a successful one
// replaces the target whole (keeping only what Carry asks for); bad targets are refused before the build step runs.
using Estuary.Models.Loading;

namespace Estuary.Models.Tests.Loading;

public sealed class StagedOutputFolderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("estuary-staged-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Target => Path.Combine(_root, "out");

    /// <summary>Every file under <paramref name="dir"/> (relative path → bytes), to compare a folder before and after.</summary>
    private static Dictionary<string, byte[]> Snapshot(string dir) =>
        Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(dir, f), File.ReadAllBytes);

    private string[] RootEntries() => [.. Directory.EnumerateFileSystemEntries(_root).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    private static void WriteSomeThenFail(string dir)
    {
        File.WriteAllText(Path.Combine(dir, "config.json"), "{\"new\": true}");
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        File.WriteAllBytes(Path.Combine(dir, "sub", "model.safetensors"), new byte[1000]);
        throw new IOException("No space left on device (injected)");
    }

    private void MakeOldFolder()
    {
        Directory.CreateDirectory(Path.Combine(Target, "nested"));
        File.WriteAllText(Path.Combine(Target, "config.json"), "{\"old\": true}");
        File.WriteAllText(Path.Combine(Target, "notes.txt"), "keep me");
        File.WriteAllBytes(Path.Combine(Target, "nested", "weights.bin"), [1, 2, 3]);
    }

    [Fact]
    public void FailedBuildOfANewFolderLeavesNothing()
    {
        var seen = new List<string>();
        var e = Assert.Throws<IOException>(() => new StagedOutputFolder(Target, "output folder", overwrite: false).Write(dir =>
        {
            seen.Add(dir);
            Assert.NotEqual(Path.GetFullPath(Target), Path.GetFullPath(dir)); // the build step never writes the target itself
            WriteSomeThenFail(dir);
        }));
        Assert.Contains("injected", e.Message);
        Assert.Single(seen);
        Assert.False(Directory.Exists(seen[0]), "the staging folder must be deleted");
        Assert.False(Directory.Exists(Target));
        Assert.Empty(RootEntries());
    }

    [Fact]
    public void FailedBuildUnderOverwriteLeavesTheOldFolderByteForByte()
    {
        MakeOldFolder();
        var before = Snapshot(Target);
        var output = new StagedOutputFolder(Target, "output folder", overwrite: true) { Carry = _ => true };
        Assert.Throws<IOException>(() => output.Write(WriteSomeThenFail));
        Assert.Equal(before, Snapshot(Target));
        Assert.Equal(["out"], RootEntries());
    }

    [Fact]
    public void SuccessfulOverwriteReplacesTheFolderWholeAndReturnsTheResult()
    {
        MakeOldFolder();
        int result = new StagedOutputFolder(Target, "output folder", overwrite: true).Write(dir =>
        {
            File.WriteAllText(Path.Combine(dir, "config.json"), "{\"new\": true}");
            return 42;
        });
        Assert.Equal(42, result);
        Assert.Equal(["config.json"], Snapshot(Target).Keys);
        Assert.Equal("{\"new\": true}", File.ReadAllText(Path.Combine(Target, "config.json")));
        Assert.Equal(["out"], RootEntries()); // the old folder moved aside is deleted too
    }

    [Fact]
    public void CarriedEntriesOfTheOldFolderSurviveAnOverwrite()
    {
        MakeOldFolder();
        new StagedOutputFolder(Target, "output folder", overwrite: true) { Carry = p => Path.GetFileName(p) != "config.json" }
            .Write(dir => File.WriteAllText(Path.Combine(dir, "config.json"), "{\"new\": true}"));
        var after = Snapshot(Target);
        Assert.Equal("{\"new\": true}", System.Text.Encoding.UTF8.GetString(after["config.json"]));
        Assert.Equal("keep me", System.Text.Encoding.UTF8.GetString(after["notes.txt"]));
        Assert.Equal([1, 2, 3], after[Path.Combine("nested", "weights.bin")]);
    }

    [Fact]
    public void EmptyExistingFolderIsReplacedWithoutOverwrite()
    {
        Directory.CreateDirectory(Target);
        new StagedOutputFolder(Target, "output folder", overwrite: false).Write(dir => File.WriteAllText(Path.Combine(dir, "a"), "a"));
        Assert.Equal("a", File.ReadAllText(Path.Combine(Target, "a")));
        Assert.Equal(["out"], RootEntries());
    }

    [Fact]
    public void BadTargetsAreRefusedBeforeTheBuildRuns()
    {
        bool ran = false;
        void Build(string dir) => ran = true;

        MakeOldFolder();
        var e = Assert.Throws<IOException>(() => new StagedOutputFolder(Target, "merged model folder", overwrite: false).Write(Build));
        Assert.Equal($"merged model folder '{Target}' exists and is not empty; pass --overwrite to replace it", e.Message);
        e = Assert.Throws<IOException>(() => new StagedOutputFolder(Target, "adapter folder", false) { OverwriteFlag = null }.Write(Build));
        Assert.Contains("not empty; choose an empty or new folder", e.Message);
        Assert.DoesNotContain("overwrite", e.Message);

        string file = Path.Combine(_root, "afile");
        File.WriteAllText(file, "x");
        e = Assert.Throws<IOException>(() => new StagedOutputFolder(file, "output folder", overwrite: true).Write(Build));
        Assert.Contains("is a file, not a folder", e.Message);
        e = Assert.Throws<IOException>(() => new StagedOutputFolder(Path.Combine(file, "sub", "deeper"), "output folder", true).Write(Build));
        Assert.Contains($"'{file}' is a file", e.Message);

        var overlap = Assert.Throws<ArgumentException>(() =>
            new StagedOutputFolder(Path.Combine(Target, "inside"), "output folder", true, [Target]).Write(Build));
        Assert.Contains("overlaps the input folder", overlap.Message);
        overlap = Assert.Throws<ArgumentException>(() => new StagedOutputFolder(_root, "output folder", true, [Target]).Write(Build));
        Assert.Contains("overlaps", overlap.Message);

        Assert.False(ran);
        Assert.Equal(["afile", "out"], RootEntries());
    }
}
