// Writes safetensors files streaming one tensor at a time: header from the declared sizes, then each tensor's bytes in order.
// Invariant: the file appears under its final name only when completely written (temp file + rename); no partial file survives a failure.
using System.Text.Json;
using Estuary.Tensors;

namespace Estuary.Models.Loading;

/// <summary>Writes a single <c>.safetensors</c> file.</summary>
public static class SafetensorsWriter
{
    /// <summary>
    /// Writes <paramref name="tensors"/> (in the given order, contiguous) to <paramref name="path"/>, with optional string
    /// <paramref name="metadata"/> in <c>__metadata__</c>. The header is padded with spaces to a multiple of 8 bytes so data starts 8-aligned.
    /// An existing file is replaced; on failure nothing is left at <paramref name="path"/> or beside it.
    /// </summary>
    public static void WriteFile(string path, IEnumerable<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        string temp = TempPathFor(path);
        try
        {
            WriteUnpublished(temp, path, list, metadata);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>The header bytes (JSON padded with spaces to a multiple of 8, without the 8-byte length prefix).</summary>
    internal static byte[] BuildHeader(IReadOnlyList<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata, string path)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) json.WriteString(k, v);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in tensors)
            {
                if (t.Name == "__metadata__" || !seen.Add(t.Name))
                    throw new CheckpointException($"{path}: tensor name '{t.Name}' is reserved or used twice");
                json.WriteStartObject(t.Name);
                json.WriteString("dtype", t.DType.SafetensorsName());
                json.WriteStartArray("shape");
                foreach (var d in t.Shape.ToArray()) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + t.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += t.ByteLength;
            }
            json.WriteEndObject();
        }
        int padded = (int)((buffer.Length + 7) / 8 * 8);
        var header = new byte[padded];
        buffer.ToArray().CopyTo(header, 0);
        header.AsSpan((int)buffer.Length).Fill((byte)' ');
        return header;
    }

    /// <summary>Writes the complete file to <paramref name="temp"/> (errors name <paramref name="finalPath"/>), flushed to disk.</summary>
    internal static void WriteUnpublished(string temp, string finalPath, IReadOnlyList<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        byte[] header = BuildHeader(tensors, metadata, finalPath);
        using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        Span<byte> length = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        file.Write(length);
        file.Write(header);
        foreach (var t in tensors)
        {
            long before = file.Position;
            t.WriteData(new AppendOnlyStream(file));
            long written = file.Position - before;
            if (written != t.ByteLength)
                throw new CheckpointException($"{finalPath}: tensor '{t.Name}' {t.DType} {t.Shape} wrote {written} bytes, declared {t.ByteLength}");
        }
        file.Flush(flushToDisk: true);
    }

    /// <summary>A unique temporary name beside <paramref name="path"/> (same folder, so the final rename is atomic).</summary>
    internal static string TempPathFor(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");

    /// <summary>Best-effort removal of a temporary file after a failure (the original error is what matters).</summary>
    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Leave it; reporting this would hide the failure that caused the cleanup.
        }
    }

    /// <summary>Lets a data callback append to the file but not seek, read, or close it.</summary>
    private sealed class AppendOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
        public override void WriteByte(byte value) => inner.WriteByte(value);
    }
}
