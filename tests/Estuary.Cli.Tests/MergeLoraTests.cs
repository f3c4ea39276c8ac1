// `estuary merge-lora` end to end (in process): the default base resolution, the merged folder generating the reference, and errors.
using System.Text.Json;
using Estuary.Testing;

// Tests here and in CliTests swap the process-wide Console streams; run this assembly's tests one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Estuary.Cli.Tests;

public sealed class MergeLoraTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("estuary-cli-lora-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    [Fact]
    public void MergedModelGeneratesTheMergedReference()
    {
        var output = Path.Combine(_root, "merged");
        // No --base-model-dir: base_model_name_or_path "baichuan2-tiny-rope" resolves beside the adapter folder.
        var (code, _, err) = Run("merge-lora", "--lora-model-dir", Fixtures.Path("lora"), "--merged-model-dir", output, "--dtype", "f32");
        Assert.True(code == 0, err);
        Assert.Contains("merged 10 modules", err);
        Assert.Matches(@"in \d+\.\d+ s", err);

        using var reference = Fixtures.Json("lora", "reference.json");
        var c = reference.RootElement.GetProperty("cases")[1];
        var ids = string.Join(",", Fixtures.Ints(c.GetProperty("prompt_ids")));
        (code, var json, err) = Run("generate", "--model", output, "--prompt-ids", ids, "--temperature", "0", "--repetition-penalty", "1",
            "--max-tokens", "32", "--ignore-eos", "--json");
        Assert.True(code == 0, err);
        using var line = JsonDocument.Parse(json);
        Assert.Equal(Fixtures.Ints(c.GetProperty("greedy").GetProperty("generated_ids")), Fixtures.Ints(line.RootElement.GetProperty("output_ids")));
    }

    [Fact]
    public void ErrorsAreOneLineMessagesWithExitCode2()
    {
        var output = Directory.CreateDirectory(Path.Combine(_root, "busy")).FullName;
        File.WriteAllText(Path.Combine(output, "x"), "x");
        var (code, _, err) = Run("merge-lora", "--lora-model-dir", Fixtures.Path("lora"), "--merged-model-dir", output);
        Assert.Equal(2, code);
        Assert.Contains("not empty; pass --overwrite", err);

        (code, _, err) = Run("merge-lora", "--lora-model-dir", Path.Combine(_root, "missing"), "--merged-model-dir", Path.Combine(_root, "o"));
        Assert.Equal(2, code);
        Assert.Contains("does not exist", err);

        (code, _, err) = Run("merge-lora", "--lora-model-dir", Fixtures.Path("lora"), "--base-model-dir", Fixtures.Path("stories260k"),
            "--merged-model-dir", Path.Combine(_root, "o"));
        Assert.Equal(2, code);
        Assert.Contains("W_pack", err);
        Assert.False(Directory.Exists(Path.Combine(_root, "o")));

        (code, _, err) = Run("merge-lora", "--lora-model-dir", Fixtures.Path("lora"), "--merged-model-dir", Path.Combine(_root, "o"), "--dtype", "int8");
        Assert.Equal(2, code);
        Assert.Contains("--dtype", err);
    }
}
