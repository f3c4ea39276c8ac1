// make-lora writes an adapter the engine serves unmerged (--lora/--use-lora) and merge-lora merges; both change the output equally.
using System.Text.Json;
using Estuary.Testing;

namespace Estuary.Cli.Tests;

public sealed class MakeLoraTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-make-lora-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static int[] OutputIds(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return Fixtures.Ints(doc.RootElement.GetProperty("output_ids"));
    }

    [Fact]
    public void RandomAdapterServedUnmergedEqualsMerged()
    {
        var model = Fixtures.Path("baichuan2-tiny-rope");
        var adapter = Path.Combine(_dir, "adapter");
        var merged = Path.Combine(_dir, "merged");
        var made = Run("make-lora", "--model", model, "--out", adapter, "--rank", "4", "--seed", "5");
        Assert.True(made.Code == 0, made.Err);
        Assert.True(File.Exists(Path.Combine(adapter, "adapter_config.json")));
        string[] gen = ["generate", "--prompt-ids", "500,600,700,800", "--max-tokens", "12", "--temperature", "0", "--repetition-penalty", "1", "--ignore-eos", "--json"];
        var baseRun = Run([.. gen, "--model", model]);
        var unmerged = Run([.. gen, "--model", model, "--lora", $"a={adapter}", "--use-lora", "a"]);
        Assert.True(unmerged.Code == 0, unmerged.Err);
        var mergedRun = Run("merge-lora", "--lora-model-dir", adapter, "--base-model-dir", model, "--merged-model-dir", merged, "--dtype", "f32");
        Assert.True(mergedRun.Code == 0, mergedRun.Err);
        var fromMerged = Run([.. gen, "--model", merged]);
        Assert.NotEqual(OutputIds(baseRun.Out), OutputIds(unmerged.Out));
        Assert.Equal(OutputIds(fromMerged.Out), OutputIds(unmerged.Out));
        var refused = Run("make-lora", "--model", model, "--out", adapter);
        Assert.Equal(2, refused.Code);
        Assert.Contains("not empty", refused.Err);
        var badLora = Run([.. gen, "--model", model, "--lora", "nodir"]);
        Assert.Equal(2, badLora.Code);
        Assert.Contains("NAME=DIR", badLora.Err);
    }
}
