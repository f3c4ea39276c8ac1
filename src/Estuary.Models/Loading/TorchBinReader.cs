// Reads a torch.save zip checkpoint (pytorch_model.bin): allow-listed unpickling of data.pkl, tensors viewed in place.
// Invariant: stored (uncompressed) storages are zero-copy views of one file map; deflated ones are inflated once into native memory.
using System.IO.Compression;
using Estuary.Tensors;

namespace Estuary.Models.Loading;

/// <summary>A PyTorch <c>.bin</c> checkpoint in the zip format written by <c>torch.save</c> (PyTorch 1.6 and later).</summary>
public sealed unsafe class TorchBinReader : ICheckpointReader
{
    private readonly MappedFileStorage _file;
    private readonly Dictionary<string, Tensor> _tensors;
    private readonly string[] _names;
    private readonly Dictionary<string, WeightStorage> _inflated = new(StringComparer.Ordinal);
    private readonly Lock _inflateLock = new();

    /// <summary>Opens and validates <paramref name="path"/>; throws <see cref="CheckpointException"/> naming the file (and tensor) on any defect.</summary>
    public TorchBinReader(string path)
    {
        Path = path;
        _file = new MappedFileStorage(path);
        try
        {
            var entries = ZipDirectory.Read(_file);
            var byName = new Dictionary<string, ZipEntry>(StringComparer.Ordinal);
            foreach (var e in entries) byName.TryAdd(e.Name, e);

            // The archive folder is the file's stem at save time (or "archive" in newer torch): find it, don't assume it.
            var pickles = entries.Where(e => e.Name.EndsWith("/data.pkl", StringComparison.Ordinal) && e.Name.IndexOf('/') == e.Name.Length - "/data.pkl".Length).ToList();
            if (pickles.Count != 1)
                throw new CheckpointException($"{path}: expected exactly one '<folder>/data.pkl' entry in the zip, found {pickles.Count} (not a torch.save checkpoint?)");
            string stem = pickles[0].Name[..^"/data.pkl".Length];
            if (byName.TryGetValue(stem + "/byteorder", out var order) && order.Method == 0
                && !_file.Slice(order.DataOffset, (int)Math.Min(order.CompressedSize, 16)).SequenceEqual("little"u8))
                throw new CheckpointException($"{path}: checkpoint was saved big-endian; only little-endian checkpoints are supported");

            byte[] pickle = ReadEntry(pickles[0]);
            var refs = TorchUnpickler.Load(pickle, $"{path} ({pickles[0].Name})");

            _tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var (name, t) in refs)
            {
                if (!byName.TryGetValue($"{stem}/data/{t.Storage.Key}", out var entry))
                    throw new CheckpointException($"{path}: tensor '{name}' refers to storage '{t.Storage.Key}', but the zip has no entry '{stem}/data/{t.Storage.Key}'");
                _tensors.Add(name, Validate(path, name, t, entry));
            }
            // Storage order: position of the data in the file, then offset within a shared storage.
            _names = [.. _tensors.Values.OrderBy(t => t.Entry.DataOffset).ThenBy(t => t.ByteOffset).ThenBy(t => t.Info.Name, StringComparer.Ordinal).Select(t => t.Info.Name)];
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> Names => _names;

    /// <inheritdoc />
    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <inheritdoc />
    public TensorInfo GetInfo(string name) => Find(name).Info;

    /// <inheritdoc />
    public Weight Load(string name)
    {
        var t = Find(name);
        WeightStorage storage;
        long offset;
        if (t.Entry.Method == 0)
        {
            storage = _file;
            offset = t.Entry.DataOffset + t.ByteOffset;
        }
        else
        {
            storage = Inflate(t.Entry);
            offset = t.ByteOffset;
        }
        try
        {
            return new Weight(name, t.Info.DType, t.Info.Shape, storage, offset);
        }
        catch (ArgumentException ex)
        {
            throw new CheckpointException($"{Path}: tensor '{name}' {t.Info.DType} {t.Info.Shape} cannot be loaded as a weight: {ex.Message}", ex);
        }
    }

    /// <summary>Unmaps the file and frees inflated storages; weights loaded from this reader become invalid.</summary>
    public void Dispose()
    {
        lock (_inflateLock)
        {
            foreach (var s in _inflated.Values) s.Dispose();
            _inflated.Clear();
        }
        _file.Dispose();
    }

    private Tensor Find(string name) =>
        _tensors.TryGetValue(name, out var t) ? t : throw new CheckpointException($"{Path}: no tensor named '{name}'");

    private static Tensor Validate(string path, string name, TorchTensorRef t, ZipEntry entry)
    {
        int elem = t.Storage.DType.SizeOf();
        if (t.Size.Any(d => d < 0) || t.StorageOffset < 0 || t.Storage.NumElements < 0)
            throw new CheckpointException($"{path}: tensor '{name}' has a negative size or offset");
        if (t.Stride.Length != t.Size.Length)
            throw new CheckpointException($"{path}: tensor '{name}' has {t.Size.Length} dimensions but {t.Stride.Length} strides");
        // Require contiguous row-major data (dimensions of size 1 may carry any stride, as in torch).
        long expected = 1;
        for (int i = t.Size.Length - 1; i >= 0; i--)
        {
            if (t.Size[i] != 1 && t.Stride[i] != expected)
                throw new CheckpointException($"{path}: tensor '{name}' size [{string.Join(", ", t.Size)}] stride [{string.Join(", ", t.Stride)}] is not contiguous row-major; re-save it with .contiguous()");
            expected = checked(expected * t.Size[i]);
        }
        var shape = new Shape(t.Size);
        long numel = shape.NumElements;
        if (t.StorageOffset + numel > t.Storage.NumElements)
            throw new CheckpointException($"{path}: tensor '{name}' (elements [{t.StorageOffset}, {t.StorageOffset + numel})) exceeds its storage '{t.Storage.Key}' of {t.Storage.NumElements} elements");
        if (entry.UncompressedSize < checked(t.Storage.NumElements * elem))
            throw new CheckpointException($"{path}: storage '{t.Storage.Key}' of tensor '{name}' holds {entry.UncompressedSize} bytes, expected {t.Storage.NumElements * elem} ({t.Storage.NumElements} × {t.Storage.DType})");
        if (entry.Method is not (0 or 8))
            throw new CheckpointException($"{path}: storage '{t.Storage.Key}' of tensor '{name}' uses unsupported zip compression method {entry.Method}");
        return new Tensor(new TensorInfo(name, t.Storage.DType, shape), entry, t.StorageOffset * elem);
    }

    private byte[] ReadEntry(ZipEntry entry)
    {
        if (entry.UncompressedSize > int.MaxValue) throw new CheckpointException($"{Path}: zip entry '{entry.Name}' is too large");
        var bytes = new byte[entry.UncompressedSize];
        if (entry.Method == 0)
            _file.Slice(entry.DataOffset, bytes.Length).CopyTo(bytes);
        else
        {
            fixed (byte* p = bytes) InflateInto(entry, p, bytes.Length);
        }
        return bytes;
    }

    private WeightStorage Inflate(ZipEntry entry)
    {
        lock (_inflateLock)
        {
            if (_inflated.TryGetValue(entry.Name, out var existing)) return existing;
            var storage = new NativeWeightStorage(entry.UncompressedSize);
            try
            {
                InflateInto(entry, (byte*)storage.Pointer, entry.UncompressedSize);
            }
            catch
            {
                storage.Dispose();
                throw;
            }
            _inflated.Add(entry.Name, storage);
            return storage;
        }
    }

    // Inflates straight from the map into the destination, so the data exists once (plus the compressed file pages).
    private void InflateInto(ZipEntry entry, byte* dst, long length)
    {
        if (entry.Method != 8) throw new CheckpointException($"{Path}: zip entry '{entry.Name}' uses unsupported compression method {entry.Method}");
        using var source = new UnmanagedMemoryStream((byte*)_file.Pointer + entry.DataOffset, entry.CompressedSize);
        using var inflater = new DeflateStream(source, CompressionMode.Decompress);
        long done = 0;
        try
        {
            while (done < length)
            {
                int n = inflater.Read(new Span<byte>(dst + done, (int)Math.Min(length - done, 1 << 30)));
                if (n == 0) break;
                done += n;
            }
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointException($"{Path}: zip entry '{entry.Name}' is corrupt: {e.Message}", e);
        }
        if (done != length)
            throw new CheckpointException($"{Path}: zip entry '{entry.Name}' inflates to {done} bytes, expected {length}");
    }

    private sealed record Tensor(TensorInfo Info, ZipEntry Entry, long ByteOffset);
}
