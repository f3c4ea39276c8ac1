// Helpers for loader tests: temp folders, hand-made safetensors and torch zip files, pickle bytes, open-handle checks.
// Everything crafted here is built byte by byte so tests do not depend on the code under test to produce their inputs.
using System.IO.Compression;
using System.Text;

namespace Estuary.Models.Tests.Loading;

/// <summary>A temporary folder deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "estuary-load-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

internal static class LoadingTestFiles
{
    /// <summary>Writes a safetensors file from a raw header string (no padding added) and data bytes.</summary>
    public static void WriteRawSafetensors(string path, string header, byte[] data, ulong? declaredHeaderLength = null)
    {
        var h = Encoding.UTF8.GetBytes(header);
        using var f = System.IO.File.Create(path);
        f.Write(BitConverter.GetBytes(declaredHeaderLength ?? (ulong)h.Length));
        f.Write(h);
        f.Write(data);
    }

    /// <summary>Writes a zip with the given entries (as torch.save lays them out, stored or deflated).</summary>
    public static void WriteZip(string path, IEnumerable<(string Name, byte[] Data)> entries, bool compress = false)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, data) in entries)
        {
            var e = zip.CreateEntry(name, compress ? CompressionLevel.SmallestSize : CompressionLevel.NoCompression);
            using var s = e.Open();
            s.Write(data);
        }
    }

    /// <summary>All entries of a zip, read with the framework's ZipArchive (independent of the reader under test).</summary>
    public static Dictionary<string, byte[]> ReadZip(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var result = new Dictionary<string, byte[]>();
        foreach (var e in zip.Entries)
        {
            using var s = e.Open();
            using var m = new MemoryStream();
            s.CopyTo(m);
            result[e.FullName] = m.ToArray();
        }
        return result;
    }

    /// <summary>Asserts the process holds no file descriptor or memory mapping of <paramref name="path"/> (Linux only).</summary>
    public static void AssertNotOpen(string path)
    {
        if (!OperatingSystem.IsLinux()) return;
        string full = System.IO.Path.GetFullPath(path);
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue;
            }
            Assert.NotEqual(full, target);
        }
        Assert.DoesNotContain(full, System.IO.File.ReadAllText("/proc/self/maps"));
    }
}

/// <summary>Emits pickle opcodes (protocol 2 and 4) by hand.</summary>
internal sealed class PickleBuilder
{
    private readonly MemoryStream _s = new();

    public PickleBuilder Op(byte op)
    {
        _s.WriteByte(op);
        return this;
    }

    public PickleBuilder Proto(byte p) => Op(0x80).Op(p);

    public PickleBuilder Global(string module, string name)
    {
        Op((byte)'c');
        _s.Write(Encoding.UTF8.GetBytes(module + "\n" + name + "\n"));
        return this;
    }

    public PickleBuilder Str(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        Op((byte)'X');
        _s.Write(BitConverter.GetBytes(b.Length));
        _s.Write(b);
        return this;
    }

    public PickleBuilder ShortStr(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        Op(0x8c).Op((byte)b.Length);
        _s.Write(b);
        return this;
    }

    public PickleBuilder Int(int v)
    {
        Op((byte)'J');
        _s.Write(BitConverter.GetBytes(v));
        return this;
    }

    public PickleBuilder Mark() => Op((byte)'(');

    public PickleBuilder Tuple() => Op((byte)'t');

    public PickleBuilder Reduce() => Op((byte)'R');

    public PickleBuilder IntTuple(params int[] values)
    {
        Mark();
        foreach (var v in values) Int(v);
        return Tuple();
    }

    /// <summary>A tensor as torch pickles it: _rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict()).</summary>
    public PickleBuilder Tensor(string storageClass, string key, int numel, int offset, int[] size, int[] stride)
    {
        Global("torch._utils", "_rebuild_tensor_v2").Mark();
        Mark().Str("storage").Global("torch", storageClass).Str(key).Str("cpu").Int(numel).Tuple().Op((byte)'Q');
        Int(offset).IntTuple(size).IntTuple(stride).Op(0x89);
        Global("collections", "OrderedDict").Op((byte)')').Reduce();
        return Tuple().Reduce();
    }

    public byte[] Stop()
    {
        Op((byte)'.');
        return _s.ToArray();
    }
}
