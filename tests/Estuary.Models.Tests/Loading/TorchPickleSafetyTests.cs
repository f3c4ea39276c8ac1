// The .bin reader unpickles only allow-listed globals; hand-crafted malicious or odd pickles must be refused by name.
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models.Tests.Loading;

public class TorchPickleSafetyTests
{
    private static string WriteBin(TempDir dir, byte[] pickle, params (string Name, byte[] Data)[] storages)
    {
        string path = dir.File("pytorch_model.bin");
        LoadingTestFiles.WriteZip(path, [("archive/data.pkl", pickle), ("archive/version", "3\n"u8.ToArray()), .. storages.Select(s => ("archive/data/" + s.Name, s.Data))]);
        return path;
    }

    private static void AssertRefused(byte[] pickle, params string[] mentions)
    {
        using var dir = new TempDir();
        string path = WriteBin(dir, pickle);
        var ex = Assert.Throws<CheckpointException>(() => CheckpointIndex.Open(dir.Path));
        Assert.Contains(path, ex.Message);
        foreach (var m in mentions) Assert.Contains(m, ex.Message);
        LoadingTestFiles.AssertNotOpen(path);
    }

    [Fact]
    public void Os_system_global_is_refused_by_name() =>
        AssertRefused(new PickleBuilder().Proto(2).Global("os", "system").Str("touch /tmp/estuary-pwned").Op(0x85).Reduce().Stop(), "'os.system'");

    [Fact]
    public void Builtins_eval_is_refused_by_name() =>
        AssertRefused(new PickleBuilder().Proto(2).Global("builtins", "eval").Str("1+1").Op(0x85).Reduce().Stop(), "'builtins.eval'");

    [Fact]
    public void Torch_load_from_bytes_is_refused() =>
        AssertRefused(new PickleBuilder().Proto(2).Global("torch.storage", "_load_from_bytes").Str("x").Op(0x85).Reduce().Stop(), "'torch.storage._load_from_bytes'");

    [Fact]
    public void Globals_razorvine_would_construct_by_default_are_refused() =>
        // Razorvine maps builtins.set / unknown classes to its own objects; the allow-list must stop them anyway.
        AssertRefused(new PickleBuilder().Proto(2).Global("builtins", "set").Op((byte)')').Reduce().Stop(), "'builtins.set'");

    [Fact]
    public void Stack_global_is_resolved_and_refused() =>
        AssertRefused(new PickleBuilder().Proto(4).ShortStr("subprocess").Op(0x94).ShortStr("Popen").Op(0x94).Op(0x93).Str("ls").Op(0x85).Reduce().Stop(), "'subprocess.Popen'");

    [Fact]
    public void Stack_global_with_computed_operands_is_refused() =>
        AssertRefused(new PickleBuilder().Proto(4).ShortStr("os").Op(0x8f).Op(0x93).Stop(), "STACK_GLOBAL");

    [Fact]
    public void Inst_opcode_is_checked_too()
    {
        var b = new PickleBuilder().Proto(2).Mark().Str("ls").Op((byte)'i');
        var pickle = b.Stop().ToList();
        pickle.RemoveAt(pickle.Count - 1);
        pickle.AddRange("os\nsystem\n."u8.ToArray());
        AssertRefused([.. pickle], "'os.system'");
    }

    [Fact]
    public void Truncated_pickle_and_non_dict_root_are_refused()
    {
        AssertRefused([0x80, 2, (byte)'X', 10, 0, 0, 0, (byte)'a'], "truncated");
        AssertRefused(new PickleBuilder().Proto(2).Int(7).Stop(), "expected a dict");
        // Well-formed opcodes, wrong shapes of data: Razorvine's own errors become CheckpointExceptions.
        AssertRefused(new PickleBuilder().Proto(2).Op((byte)'R').Stop(), "malformed");
        AssertRefused(new PickleBuilder().Proto(2).Global("torch._utils", "_rebuild_tensor_v2").Mark().Str("x").Tuple().Reduce().Stop(), "_rebuild_tensor");
    }

    [Fact]
    public void Hand_made_checkpoint_with_shared_storage_loads_views()
    {
        // One FloatStorage of 6 floats; "a" = elements [0, 4) as 2×2, "b" = elements [4, 6) as [2].
        var floats = new float[] { 1, 2, 3, 4, 5, 6 };
        var pickle = new PickleBuilder().Proto(2).Op((byte)'}').Mark()
            .Str("a").Tensor("FloatStorage", "0", 6, 0, [2, 2], [2, 1])
            .Str("b").Tensor("FloatStorage", "0", 6, 4, [2], [1])
            .Op((byte)'u').Stop();
        using var dir = new TempDir();
        WriteBin(dir, pickle, ("0", floats.SelectMany(BitConverter.GetBytes).ToArray()));
        using var r = CheckpointIndex.Open(dir.Path);
        Assert.Equal(["a", "b"], r.Names);
        Assert.Equal(new TensorInfo("a", DType.F32, new Shape(2, 2)), r.GetInfo("a"));
        var a = r.Load("a");
        var b = r.Load("b");
        Assert.Equal([1f, 2f, 3f, 4f], Enumerable.Range(0, 4).Select(i => a.GetFloat(i)));
        Assert.Equal([5f, 6f], Enumerable.Range(0, 2).Select(i => b.GetFloat(i)));
        Assert.Same(a.Storage, b.Storage);
    }

    [Fact]
    public void Non_contiguous_tensor_is_refused_by_name()
    {
        var pickle = new PickleBuilder().Proto(2).Op((byte)'}').Str("transposed").Tensor("FloatStorage", "0", 4, 0, [2, 2], [1, 2]).Op((byte)'s').Stop();
        using var dir = new TempDir();
        WriteBin(dir, pickle, ("0", new byte[16]));
        var ex = Assert.Throws<CheckpointException>(() => CheckpointIndex.Open(dir.Path));
        Assert.Contains("'transposed'", ex.Message);
        Assert.Contains("contiguous", ex.Message);
    }

    [Fact]
    public void Tensor_beyond_its_storage_or_with_missing_storage_is_refused()
    {
        using (var dir = new TempDir())
        {
            WriteBin(dir, new PickleBuilder().Proto(2).Op((byte)'}').Str("big").Tensor("HalfStorage", "0", 4, 2, [4], [1]).Op((byte)'s').Stop(), ("0", new byte[8]));
            Assert.Contains("'big'", Assert.Throws<CheckpointException>(() => CheckpointIndex.Open(dir.Path)).Message);
        }
        using (var dir = new TempDir())
        {
            WriteBin(dir, new PickleBuilder().Proto(2).Op((byte)'}').Str("lost").Tensor("HalfStorage", "7", 4, 0, [4], [1]).Op((byte)'s').Stop());
            var ex = Assert.Throws<CheckpointException>(() => CheckpointIndex.Open(dir.Path));
            Assert.Contains("'lost'", ex.Message);
            Assert.Contains("archive/data/7", ex.Message);
        }
    }
}
