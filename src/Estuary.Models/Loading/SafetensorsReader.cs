// Reads one .safetensors file through a read-only memory map; Load returns zero-copy views into the map.
// Invariant: after construction every tensor's dtype, shape and byte range have been checked against the file.
using System.Text.Json;
using Estuary.Tensors;

namespace Estuary.Models.Loading;

/// <summary>A single safetensors file: 8-byte little-endian header length, JSON header, raw tensor data.</summary>
public sealed class SafetensorsReader : ICheckpointReader
{
    // The reference implementation refuses headers above 100 MB; a larger one is corruption, not a model.
    private const long MaxHeaderBytes = 100_000_000;

    private readonly MappedFileStorage _storage;
    private readonly Dictionary<string, Entry> _entries;
    private readonly string[] _names;
    private readonly long _dataStart;

    /// <summary>Maps and validates <paramref name="path"/>; throws <see cref="CheckpointException"/> naming the file (and tensor) on any defect.</summary>
    public SafetensorsReader(string path)
    {
        Path = path;
        _storage = new MappedFileStorage(path);
        try
        {
            (_entries, _dataStart, Metadata) = ParseHeader(path, _storage);
            // Storage order = order of the data in the file.
            _names = [.. _entries.Values.OrderBy(e => e.Begin).ThenBy(e => e.Info.Name, StringComparer.Ordinal).Select(e => e.Info.Name)];
        }
        catch
        {
            _storage.Dispose();
            throw;
        }
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>The string entries of the header's <c>__metadata__</c> object (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> Names => _names;

    /// <inheritdoc />
    public bool Contains(string name) => _entries.ContainsKey(name);

    /// <inheritdoc />
    public TensorInfo GetInfo(string name) => Find(name).Info;

    /// <inheritdoc />
    public Weight Load(string name)
    {
        var e = Find(name);
        try
        {
            return new Weight(name, e.Info.DType, e.Info.Shape, _storage, _dataStart + e.Begin);
        }
        catch (ArgumentException ex)
        {
            throw new CheckpointException($"{Path}: tensor '{name}' {e.Info.DType} {e.Info.Shape} cannot be loaded as a weight: {ex.Message}", ex);
        }
    }

    /// <summary>Unmaps the file; weights loaded from it become invalid.</summary>
    public void Dispose() => _storage.Dispose();

    private Entry Find(string name) =>
        _entries.TryGetValue(name, out var e) ? e : throw new CheckpointException($"{Path}: no tensor named '{name}'");

    private static unsafe (Dictionary<string, Entry>, long, IReadOnlyDictionary<string, string>) ParseHeader(string path, MappedFileStorage storage)
    {
        long fileLength = storage.ByteLength;
        if (fileLength < 8) throw new CheckpointException($"{path}: file of {fileLength} bytes is too short for a safetensors header");
        ulong headerLength = *(ulong*)storage.Pointer;
        if (!BitConverter.IsLittleEndian) headerLength = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(headerLength);
        if (headerLength == 0 || headerLength > (ulong)(fileLength - 8))
            throw new CheckpointException($"{path}: header length {headerLength} does not fit in the file of {fileLength} bytes (truncated or not a safetensors file)");
        if ((long)headerLength > MaxHeaderBytes)
            throw new CheckpointException($"{path}: header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(storage.Slice(8, (int)headerLength).ToArray());
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{path}: header is not valid JSON: {e.Message}", e);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointException($"{path}: header is a JSON {doc.RootElement.ValueKind}, expected an object");
            var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    // Ignored apart from plain strings, which are handy for diagnostics (e.g. "format": "pt").
                    if (prop.Value.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var m in prop.Value.EnumerateObject())
                        {
                            if (m.Value.ValueKind == JsonValueKind.String) metadata[m.Name] = m.Value.GetString()!;
                        }
                    }
                    continue;
                }
                var entry = ParseEntry(path, prop, dataLength);
                if (!entries.TryAdd(prop.Name, entry))
                    throw new CheckpointException($"{path}: tensor '{prop.Name}' appears twice in the header");
            }

            // Sorted by start, each tensor must begin at or after the end of the previous one.
            Entry? previous = null;
            foreach (var e in entries.Values.OrderBy(e => e.Begin).ThenBy(e => e.End))
            {
                if (previous != null && e.Begin < previous.End)
                    throw new CheckpointException($"{path}: tensors '{previous.Info.Name}' [{previous.Begin}, {previous.End}) and '{e.Info.Name}' [{e.Begin}, {e.End}) overlap");
                previous = e;
            }
            return (entries, dataStart, metadata);
        }
    }

    private static Entry ParseEntry(string path, JsonProperty prop, long dataLength)
    {
        string name = prop.Name;
        var v = prop.Value;
        if (v.ValueKind != JsonValueKind.Object)
            throw new CheckpointException($"{path}: header entry for tensor '{name}' is not an object");
        if (!v.TryGetProperty("dtype", out var dtypeEl) || dtypeEl.ValueKind != JsonValueKind.String)
            throw new CheckpointException($"{path}: tensor '{name}' has no \"dtype\" string");
        string dtypeName = dtypeEl.GetString()!;
        // Only the exact safetensors spellings are accepted here (DTypeInfo.Parse also takes HF aliases).
        DType dtype = dtypeName switch
        {
            "F32" => DType.F32,
            "F16" => DType.F16,
            "BF16" => DType.BF16,
            "I32" => DType.I32,
            "I8" => DType.I8,
            "U8" => DType.U8,
            "I64" => DType.I64,
            _ => throw new CheckpointException($"{path}: tensor '{name}' has unsupported dtype '{dtypeName}' (supported: F32, F16, BF16, I32, I8, U8, I64)"),
        };

        if (!v.TryGetProperty("shape", out var shapeEl) || shapeEl.ValueKind != JsonValueKind.Array)
            throw new CheckpointException($"{path}: tensor '{name}' has no \"shape\" array");
        var dims = new long[shapeEl.GetArrayLength()];
        long numel = 1;
        int i = 0;
        foreach (var d in shapeEl.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dim) || dim < 0)
                throw new CheckpointException($"{path}: tensor '{name}' has an invalid shape entry {d.GetRawText()}");
            dims[i++] = dim;
            try
            {
                numel = checked(numel * dim);
            }
            catch (OverflowException)
            {
                throw new CheckpointException($"{path}: tensor '{name}' shape {shapeEl.GetRawText()} overflows");
            }
        }

        if (!v.TryGetProperty("data_offsets", out var offEl) || offEl.ValueKind != JsonValueKind.Array || offEl.GetArrayLength() != 2
            || offEl[0].ValueKind != JsonValueKind.Number || offEl[1].ValueKind != JsonValueKind.Number
            || !offEl[0].TryGetInt64(out long begin) || !offEl[1].TryGetInt64(out long end))
            throw new CheckpointException($"{path}: tensor '{name}' has no valid \"data_offsets\" [begin, end]");
        if (begin < 0 || end < begin || end > dataLength)
            throw new CheckpointException($"{path}: tensor '{name}' data_offsets [{begin}, {end}) lie outside the data section of {dataLength} bytes");

        long expected;
        try
        {
            expected = checked(numel * dtype.SizeOf());
        }
        catch (OverflowException)
        {
            throw new CheckpointException($"{path}: tensor '{name}' shape {shapeEl.GetRawText()} overflows");
        }
        if (expected != end - begin)
            throw new CheckpointException($"{path}: tensor '{name}' {dtypeName} {shapeEl.GetRawText()} needs {expected} bytes but data_offsets [{begin}, {end}) span {end - begin}");

        return new Entry(new TensorInfo(name, dtype, new Shape(dims)), begin, end);
    }

    private sealed record Entry(TensorInfo Info, long Begin, long End);
}
