// The quantizer checks its input before writing anything (already quantized, missing or misshapen tensors, a group size that does
// not fit, an output folder that is busy or overlaps the input), and a failure while writing leaves the output folder as it was.
using System.Text.Json.Nodes;
using Estuary.Backend.Cpu;
using Estuary.Models.Loading;
using Estuary.Models.Quantization;
using Estuary.Models.Synthetic;
using Estuary.Tensors;
using Estuary.Testing;

namespace Estuary.Models.Tests.Quantization;

public sealed class QuantizeInputTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("estuary-quant-input-").FullName;
    private readonly string _model;

    public QuantizeInputTests()
    {
        _model = Path.Combine(_root, "model");
        RandomModelWriter.Write(ModelShapes.Get("tiny-llama"), DType.F32, _model, seed: 1); // hidden 128, 2 layers, untied head
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Output => Path.Combine(_root, "out");

    private static Dictionary<string, byte[]> Snapshot(string dir) =>
        Directory.EnumerateFiles(dir).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    private void AssertNothingWritten()
    {
        Assert.False(Directory.Exists(Output), "no output folder may be written");
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(_root), e => Path.GetFileName(e).StartsWith('.'));
    }

    /// <summary>A copy of <paramref name="source"/> with its tensors passed through <paramref name="edit"/> (null drops one) and config edited.</summary>
    private string Variant(string source, string name, Func<Weight, TensorToWrite?> edit, Action<JsonObject>? configEdit = null)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_root, name)).FullName;
        using (var reader = CheckpointIndex.Open(source))
            SafetensorsWriter.WriteFile(Path.Combine(dir, "model.safetensors"), [.. reader.Names.Select(n => edit(reader.Load(n))).OfType<TensorToWrite>()]);
        foreach (var file in Directory.GetFiles(source).Where(f => !f.EndsWith(".safetensors", StringComparison.Ordinal)))
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        var config = (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        configEdit?.Invoke(config);
        File.SetAttributes(Path.Combine(dir, "config.json"), FileAttributes.Normal);
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        return dir;
    }

    private static TensorToWrite Keep(Weight w) => TensorToWrite.FromWeight(w);

    [Fact]
    public void AlreadyQuantizedInputsAreRefusedUpFront()
    {
        var awq = Fixtures.Path("baichuan2-bible-256-awq-rtn");
        var e = Assert.Throws<CheckpointException>(() => QuantizedCheckpointWriter.WriteInt8(awq, Output));
        Assert.StartsWith("the input is already quantized (", e.Message);
        Assert.Contains("'awq'", e.Message);
        AssertNothingWritten();

        QuantizedCheckpointWriter.WriteInt8(_model, Path.Combine(_root, "int8"));
        e = Assert.Throws<CheckpointException>(() => QuantizedCheckpointWriter.CheckInput(Path.Combine(_root, "int8"), Output, overwrite: false));
        Assert.Contains("already quantized", e.Message);
        Assert.Contains(QuantizationConfig.Int8Method, e.Message);

        // Quantized tensors give it away even when config.json has lost its quantization_config.
        var bare = Variant(awq, "awq-no-config", Keep, c => c.Remove("quantization_config"));
        e = Assert.Throws<CheckpointException>(() => QuantizedCheckpointWriter.WriteInt8(bare, Output));
        Assert.Contains("already quantized", e.Message);
        Assert.Contains(".qweight", e.Message);
        AssertNothingWritten();
    }

    public static TheoryData<string, string> BrokenInputs => new()
    {
        { "missing-up", "model.layers.1.mlp.up_proj.weight" },
        { "short-q", "model.layers.0.self_attn.q_proj.weight" },
        { "3d-q", "model.layers.0.self_attn.q_proj.weight" },
        { "no-embed", "model.embed_tokens.weight" },
        { "no-head", "lm_head.weight" },
        { "more-layers", "model.layers.2." },
    };

    [Theory]
    [MemberData(nameof(BrokenInputs))]
    public void InputsThatWouldNotLoadAreRefusedBeforeWriting(string variant, string named)
    {
        const string Q = "model.layers.0.self_attn.q_proj.weight";
        TensorToWrite? Edit(Weight w) => variant switch
        {
            "missing-up" when w.Name == named => null,
            "no-embed" or "no-head" when w.Name == named => null,
            "short-q" when w.Name == Q => TensorToWrite.FromBytes(Q, DType.F32, new Shape(64, 128), new byte[64 * 128 * 4]),
            "3d-q" when w.Name == Q => TensorToWrite.FromBytes(Q, DType.F32, new Shape(2, 64, 128), new byte[128 * 128 * 4]),
            _ => Keep(w),
        };
        var dir = Variant(_model, variant, Edit, c => { if (variant == "more-layers") c["num_hidden_layers"] = 3; });
        var e = Assert.Throws<CheckpointException>(() => QuantizedCheckpointWriter.WriteInt8(dir, Output));
        Assert.Contains(named, e.Message);
        AssertNothingWritten();
    }

    [Fact]
    public void AwqGroupSizeThatDoesNotDivideTheModulesIsRefusedBeforeWriting()
    {
        var options = new AwqOptions { GroupSize = 256 };
        var e = Assert.Throws<ArgumentException>(() => QuantizedCheckpointWriter.CheckInput(_model, Output, overwrite: false, options));
        Assert.Contains("--group-size 256", e.Message);
        Assert.Contains("[128, 128]", e.Message);
        using var backend = new CpuBackend(1);
        Assert.Throws<ArgumentException>(() => QuantizedCheckpointWriter.WriteAwq(_model, Output, options, [], backend));
        AssertNothingWritten();
        QuantizedCheckpointWriter.CheckInput(_model, Output, overwrite: false, new AwqOptions { GroupSize = 128 }); // fits: no exception
    }

    [Fact]
    public void OutputMustBeEmptyUnlessOverwriteAndMustNotOverlapTheInput()
    {
        var input = Snapshot(_model);
        Directory.CreateDirectory(Output);
        File.WriteAllText(Path.Combine(Output, "notes.txt"), "old");
        var e = Assert.Throws<IOException>(() => QuantizedCheckpointWriter.WriteInt8(_model, Output));
        Assert.Contains("not empty; pass --overwrite", e.Message);
        Assert.Equal(["notes.txt"], Directory.GetFiles(Output).Select(Path.GetFileName));

        QuantizedCheckpointWriter.WriteInt8(_model, Output, overwrite: true);
        Assert.False(File.Exists(Path.Combine(Output, "notes.txt")));
        using (var written = CheckpointIndex.Open(Output))
            Assert.Equal(DType.I8, written.GetInfo("model.layers.0.self_attn.q_proj.weight").DType);

        var inside = Assert.Throws<ArgumentException>(() => QuantizedCheckpointWriter.WriteInt8(_model, Path.Combine(_model, "q8"), overwrite: true));
        Assert.Contains("overlaps the input folder", inside.Message);
        Assert.Throws<ArgumentException>(() => QuantizedCheckpointWriter.WriteInt8(_model, _model, overwrite: true));
        Assert.Equal(input, Snapshot(_model));
        Assert.Equal(["model", "out"], Directory.EnumerateFileSystemEntries(_root).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void FailureWhileWritingLeavesTheOutputAsItWas()
    {
        // A failure after the tokenizer files, the first layer and part of the safetensors file are written (like a full disk).
        var failAtLayer2 = new Fail(2);
        Assert.Throws<InvalidOperationException>(() => QuantizedCheckpointWriter.WriteInt8(_model, Output, failAtLayer2));
        Assert.Equal(1, failAtLayer2.Seen);
        AssertNothingWritten();

        QuantizedCheckpointWriter.WriteInt8(_model, Output, keepHead: true);
        var before = Snapshot(Output);
        Assert.Throws<InvalidOperationException>(() => QuantizedCheckpointWriter.WriteInt8(_model, Output, new Fail(2), overwrite: true));
        Assert.Equal(before, Snapshot(Output));
        Assert.Equal(["model", "out"], Directory.EnumerateFileSystemEntries(_root).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    /// <summary>Progress that throws when told layer <paramref name="layer"/> is done.</summary>
    private sealed class Fail(int layer) : IProgress<int>
    {
        public int Seen { get; private set; }

        public void Report(int value)
        {
            if (value >= layer) throw new InvalidOperationException("injected failure");
            Seen = value;
        }
    }
}
