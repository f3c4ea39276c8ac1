// Corrupt, truncated, incomplete and malicious checkpoints: each must give a CheckpointException naming file and tensor, and release the file.
using System.Text;
using Estuary.Models.Loading;
using Estuary.Testing;

namespace Estuary.Models.Tests.Loading;

public class BadCheckpointTests
{
    private static CheckpointException AssertRejected(string path, Func<string, ICheckpointReader> open, params string[] mentions)
    {
        var ex = Assert.Throws<CheckpointException>(() => open(path));
        foreach (var m in mentions) Assert.Contains(m, ex.Message);
        LoadingTestFiles.AssertNotOpen(path);
        File.Delete(path);
        return ex;
    }

    private static CheckpointException Safetensors(string header, byte[] data, params string[] mentions)
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        LoadingTestFiles.WriteRawSafetensors(path, header, data);
        return AssertRejected(path, CheckpointIndex.OpenFile, [path, .. mentions]);
    }

    [Fact]
    public void Safetensors_with_invalid_json_header() =>
        Safetensors("{\"w\": {\"dtype\": \"F32\", ", new byte[8], "not valid JSON");

    [Fact]
    public void Safetensors_header_length_beyond_file()
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        LoadingTestFiles.WriteRawSafetensors(path, "{}      ", [], declaredHeaderLength: 1000);
        AssertRejected(path, p => new SafetensorsReader(p), path, "header length 1000");
    }

    [Fact]
    public void Safetensors_offsets_beyond_file() =>
        Safetensors("""{"w": {"dtype": "F32", "shape": [100], "data_offsets": [0, 400]}}""", new byte[16], "'w'", "outside the data section");

    [Fact]
    public void Safetensors_shape_and_offsets_disagree() =>
        Safetensors("""{"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}}""", new byte[16], "'w'", "needs 16 bytes");

    [Fact]
    public void Safetensors_overlapping_tensors() =>
        Safetensors("""{"a": {"dtype": "U8", "shape": [16], "data_offsets": [0, 16]}, "b": {"dtype": "U8", "shape": [16], "data_offsets": [8, 24]}}""",
            new byte[24], "'a'", "'b'", "overlap");

    [Fact]
    public void Safetensors_unknown_dtype() =>
        Safetensors("""{"w": {"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}}""", new byte[4], "'w'", "F8_E4M3");

    [Fact]
    public void Safetensors_non_numeric_offsets() =>
        Safetensors("""{"w": {"dtype": "U8", "shape": [4], "data_offsets": ["0", 4]}}""", new byte[4], "'w'", "data_offsets");

    [Fact]
    public void Safetensors_negative_dimension() =>
        Safetensors("""{"w": {"dtype": "U8", "shape": [-4], "data_offsets": [0, 4]}}""", new byte[4], "'w'", "shape");

    [Fact]
    public void Truncated_safetensors_and_bin_files()
    {
        using var dir = new TempDir();
        var st = File.ReadAllBytes(Fixtures.Path("baichuan2-tiny-rope", "model.safetensors"));
        string half = dir.File("half.safetensors");
        File.WriteAllBytes(half, st[..(st.Length / 2)]);
        AssertRejected(half, CheckpointIndex.OpenFile, "outside the data section");

        string tiny = dir.File("tiny.safetensors");
        File.WriteAllBytes(tiny, st[..5]);
        AssertRejected(tiny, CheckpointIndex.OpenFile, "too short");

        string empty = dir.File("empty.safetensors");
        File.WriteAllBytes(empty, []);
        AssertRejected(empty, CheckpointIndex.OpenFile, "empty");

        var bin = File.ReadAllBytes(Fixtures.Path("lora", "adapter_model.bin"));
        string binHalf = dir.File("half.bin");
        File.WriteAllBytes(binHalf, bin[..(bin.Length / 2)]);
        AssertRejected(binHalf, CheckpointIndex.OpenFile, binHalf, "zip");
    }

    [Fact]
    public void Missing_tensor_is_named()
    {
        using var st = CheckpointIndex.Open(Fixtures.Path("baichuan2-tiny-rope"));
        Assert.Contains("'model.layers.9.mlp.up_proj.weight'", Assert.Throws<CheckpointException>(() => st.Load("model.layers.9.mlp.up_proj.weight")).Message);
        Assert.Contains("'nope'", Assert.Throws<CheckpointException>(() => st.GetInfo("nope")).Message);
        using var bin = CheckpointIndex.Open(Fixtures.Path("baichuan2-tiny-alibi"));
        Assert.Contains("'nope'", Assert.Throws<CheckpointException>(() => bin.Load("nope")).Message);
        using var lora = CheckpointIndex.OpenFile(Fixtures.Path("lora", "adapter_model.bin"));
        Assert.Contains("'nope'", Assert.Throws<CheckpointException>(() => lora.Load("nope")).Message);
    }

    [Fact]
    public void Missing_shard_is_named_and_opened_shards_are_closed()
    {
        using var dir = new TempDir();
        File.Copy(Fixtures.Path("baichuan2-tiny-alibi", "pytorch_model.bin.index.json"), dir.File("pytorch_model.bin.index.json"));
        File.Copy(Fixtures.Path("baichuan2-tiny-alibi", "pytorch_model-00001-of-00002.bin"), dir.File("pytorch_model-00001-of-00002.bin"));
        var ex = Assert.Throws<CheckpointException>(() => CheckpointIndex.Open(dir.Path));
        Assert.Contains("pytorch_model-00002-of-00002.bin", ex.Message);
        Assert.Contains("pytorch_model.bin.index.json", ex.Message);
        LoadingTestFiles.AssertNotOpen(dir.File("pytorch_model-00001-of-00002.bin"));
    }

    [Fact]
    public void Index_entry_whose_shard_lacks_the_tensor_names_both()
    {
        using var dir = new TempDir();
        foreach (var f in new[] { "pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin" })
            File.Copy(Fixtures.Path("baichuan2-tiny-alibi", f), dir.File(f));
        // lm_head.weight lives in shard 2; point the index at shard 1.
        string index = File.ReadAllText(Fixtures.Path("baichuan2-tiny-alibi", "pytorch_model.bin.index.json"))
            .Replace("\"lm_head.weight\": \"pytorch_model-00002-of-00002.bin\"", "\"lm_head.weight\": \"pytorch_model-00001-of-00002.bin\"");
        File.WriteAllText(dir.File("pytorch_model.bin.index.json"), index);
        var ex = Assert.Throws<CheckpointException>(() => CheckpointIndex.Open(dir.Path));
        Assert.Contains("'lm_head.weight'", ex.Message);
        Assert.Contains("pytorch_model-00001-of-00002.bin", ex.Message);
        LoadingTestFiles.AssertNotOpen(dir.File("pytorch_model-00001-of-00002.bin"));
        LoadingTestFiles.AssertNotOpen(dir.File("pytorch_model-00002-of-00002.bin"));
    }

    [Fact]
    public void Index_shard_outside_the_folder_is_refused()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("model.safetensors.index.json"), """{"weight_map": {"w": "../../etc/passwd"}}""");
        Assert.Contains("invalid shard file name", Assert.Throws<CheckpointException>(() => CheckpointIndex.Open(dir.Path)).Message);
    }

    [Fact]
    public void Empty_directory_names_the_folder_and_the_files_looked_for()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<CheckpointException>(() => CheckpointIndex.Open(dir.Path));
        Assert.Contains(dir.Path, ex.Message);
        foreach (var f in CheckpointIndex.CandidateFiles) Assert.Contains(f, ex.Message);
        Assert.Contains("does not exist", Assert.Throws<CheckpointException>(() => CheckpointIndex.Open(dir.File("missing"))).Message);
    }

    [Fact]
    public void Safetensors_is_preferred_over_bin()
    {
        using var dir = new TempDir();
        File.Copy(Fixtures.Path("lora", "adapter_model.bin"), dir.File("pytorch_model.bin"));
        File.Copy(Fixtures.Path("lora", "adapter_model.safetensors"), dir.File("model.safetensors"));
        using (var r = CheckpointIndex.Open(dir.Path)) Assert.IsType<SafetensorsReader>(r);
        File.Delete(dir.File("model.safetensors"));
        using (var r = CheckpointIndex.Open(dir.Path)) Assert.IsType<TorchBinReader>(r);
    }

    [Fact]
    public void Rank_3_tensor_is_described_but_loading_it_names_it()
    {
        using var dir = new TempDir();
        string path = dir.File("r3.safetensors");
        LoadingTestFiles.WriteRawSafetensors(path, """{"cube": {"dtype": "U8", "shape": [2, 2, 2], "data_offsets": [0, 8]}}""", new byte[8]);
        using var r = CheckpointIndex.OpenFile(path);
        Assert.Equal(3, r.GetInfo("cube").Shape.Rank);
        Assert.Contains("'cube'", Assert.Throws<CheckpointException>(() => r.Load("cube")).Message);
    }

    [Fact]
    public void Reader_releases_the_file_on_dispose()
    {
        using var dir = new TempDir();
        string path = dir.File("model.safetensors");
        File.Copy(Fixtures.Path("baichuan2-tiny-rope", "model.safetensors"), path);
        var r = CheckpointIndex.Open(dir.Path);
        Assert.NotEqual(0, r.Load("lm_head.weight").GetFloat(0));
        // The check below must be able to see an open reader, or it would prove nothing.
        if (OperatingSystem.IsLinux()) Assert.Throws<Xunit.Sdk.NotEqualException>(() => LoadingTestFiles.AssertNotOpen(path));
        r.Dispose();
        LoadingTestFiles.AssertNotOpen(path);
    }

    [Fact]
    public void Unknown_extension_is_refused()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("model.gguf"), Encoding.ASCII.GetBytes("GGUF"));
        Assert.Contains("unknown checkpoint format", Assert.Throws<CheckpointException>(() => CheckpointIndex.OpenFile(dir.File("model.gguf"))).Message);
    }
}
