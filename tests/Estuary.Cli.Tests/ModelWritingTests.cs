// The commands that write model folders (quantize, make-model, make-lora, merge-lora) refuse bad inputs and targets with one-line
// messages and exit code 2 before writing anything, and replace a non-empty folder only with --overwrite.
using System.Text.Json.Nodes;
using Estuary.Testing;

namespace Estuary.Cli.Tests;

public sealed class ModelWritingTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("estuary-cli-writing-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string P(string name) => Path.Combine(_root, name);

    private string[] RootEntries() => [.. Directory.EnumerateFileSystemEntries(_root).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    private static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private static void AssertUsageError((int Code, string Out, string Err) run, string expected)
    {
        Assert.Equal(2, run.Code);
        Assert.Contains("error: " + expected, run.Err);
        Assert.DoesNotContain("(Parameter '", run.Err);
        Assert.DoesNotContain("   at ", run.Err); // a message, not a stack trace
    }

    /// <summary>A random tiny Llama (hidden 128, 2 layers) written by make-model, with a tokenizer.</summary>
    private string MakeModel()
    {
        var made = Run("make-model", "--shape", "tiny-llama", "--dtype", "f32", "-o", P("model"));
        Assert.True(made.Code == 0, made.Err);
        return P("model");
    }

    private static string? QuantMethod(string dir) =>
        (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!["quantization_config"]?["quant_method"];

    [Fact]
    public void QuantizeReplacesANonEmptyFolderOnlyWithOverwrite()
    {
        var model = MakeModel();
        var output = Directory.CreateDirectory(P("q")).FullName;
        File.WriteAllText(Path.Combine(output, "notes.txt"), "old");
        AssertUsageError(Run("quantize", "--model-dir", model, "--output-dir", output, "--method", "int8"), $"output folder '{output}' exists and is not empty; pass --overwrite");
        Assert.Equal(["notes.txt"], Directory.GetFiles(output).Select(Path.GetFileName));

        var done = Run("quantize", "--model-dir", model, "--output-dir", output, "--method", "int8", "--overwrite");
        Assert.True(done.Code == 0, done.Err);
        Assert.False(File.Exists(Path.Combine(output, "notes.txt")));
        Assert.Equal("estuary_int8", QuantMethod(output));

        File.WriteAllText(P("calib.txt"), string.Concat(Enumerable.Repeat("Once upon a time there was a little dog. ", 20)));
        done = Run("quantize", "--model-dir", model, "--output-dir", output, "--method", "awq", "--overwrite", "--calib", P("calib.txt"),
            "--calib-samples", "2", "--calib-seqlen", "16", "--scale-grid", "2", "--no-clip", "--threads", "2");
        Assert.True(done.Code == 0, done.Err);
        Assert.Equal("awq", QuantMethod(output));
        Assert.Equal(["calib.txt", "model", "q"], RootEntries());
    }

    [Fact]
    public void QuantizeRefusesBadInputsAndTargetsBeforeWriting()
    {
        var model = MakeModel();
        File.WriteAllText(P("afile"), "x");
        AssertUsageError(Run("quantize", "--model-dir", model, "--output-dir", P("afile"), "--method", "int8"), $"output folder '{P("afile")}' is a file, not a folder");
        Assert.Equal("x", File.ReadAllText(P("afile")));

        AssertUsageError(Run("quantize", "--model-dir", model, "--output-dir", Path.Combine(model, "q"), "--method", "int8"), "output folder");
        Assert.Contains("overlaps the input folder", Run("quantize", "--model-dir", model, "--output-dir", model, "--method", "int8").Err);

        // The input check comes first: an already-quantized input is named even when the output is also wrong.
        AssertUsageError(Run("quantize", "--model-dir", Fixtures.Path("baichuan2-bible-256-awq-rtn"), "--output-dir", P("afile"), "--method", "int8"),
            "the input is already quantized (");

        var awq = Run("quantize", "--model-dir", model, "--output-dir", P("q4"), "--method", "awq", "--group-size", "256");
        AssertUsageError(awq, "--group-size 256 does not fit");
        Assert.DoesNotContain("Calibrating", awq.Err); // refused before the (long) calibration
        AssertUsageError(Run("quantize", "--model-dir", model, "--output-dir", P("q4"), "--method", "awq", "--calib", _root),
            $"--calib: '{_root}' is a folder, not a file");
        Assert.Equal(["afile", "model"], RootEntries());
    }

    [Fact]
    public void MakeModelNamesTheFileInThePathAndTheOverwriteFlag()
    {
        File.WriteAllText(P("afile"), "x");
        AssertUsageError(Run("make-model", "--shape", "tiny-llama", "-o", Path.Combine(P("afile"), "sub")),
            $"output folder '{Path.Combine(P("afile"), "sub")}' cannot be created: '{P("afile")}' is a file, not a folder");
        var model = MakeModel();
        AssertUsageError(Run("make-model", "--shape", "tiny-llama", "-o", model), "output folder");
        Assert.Contains("not empty; pass --overwrite to replace it", Run("make-model", "--shape", "tiny-llama", "-o", model).Err);
        Assert.Equal(["afile", "model"], RootEntries());
    }

    [Theory]
    [InlineData("--alpha", "NaN", "alpha (lora_alpha) must be a finite number greater than 0, got NaN")]
    [InlineData("--alpha", "Infinity", "alpha (lora_alpha) must be a finite number greater than 0")]
    [InlineData("--rank", "2147483647", "rank 2147483647 is larger than 64, the smallest in/out feature count")]
    [InlineData("--rank", "50000000", "rank 50000000 is larger than 64")]
    public void MakeLoraRefusesBadAlphaAndRankBeforeWriting(string option, string value, string expected)
    {
        AssertUsageError(Run("make-lora", "--model", Fixtures.Path("baichuan2-tiny-rope"), "-o", P("adapter"), option, value), expected);
        Assert.Empty(RootEntries());
    }

    [Fact]
    public void MergeLoraRefusesABaseWhoseConfigDoesNotLoad()
    {
        var baseDir = Directory.CreateDirectory(P("base")).FullName;
        foreach (var file in Directory.GetFiles(Fixtures.Path("baichuan2-tiny-rope")))
            File.Copy(file, Path.Combine(baseDir, Path.GetFileName(file)));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(baseDir, "config.json")))!.AsObject();
        config["hidden_size"] = 0;
        File.SetAttributes(Path.Combine(baseDir, "config.json"), FileAttributes.Normal);
        File.WriteAllText(Path.Combine(baseDir, "config.json"), config.ToJsonString());
        var run = Run("merge-lora", "--lora-model-dir", Fixtures.Path("lora"), "--base-model-dir", baseDir, "--merged-model-dir", P("merged"));
        AssertUsageError(run, "");
        Assert.Contains("hidden_size must be positive (got 0)", run.Err);
        Assert.Equal(["base"], RootEntries());
    }
}
