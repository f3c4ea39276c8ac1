// One tensor to be written to a checkpoint: its header fields up front and a callback that streams its bytes later.
// Invariant: ByteLength = elements × dtype size, and writers check the callback wrote exactly that many bytes.
using Estuary.Tensors;

namespace Estuary.Models.Loading;

/// <summary>A tensor for <see cref="SafetensorsWriter"/>: name, dtype, shape, and a callback writing its raw little-endian bytes.</summary>
public sealed class TensorToWrite
{
    private readonly Action<Stream> _writeData;

    /// <summary>
    /// Describes a tensor whose <paramref name="writeData"/> callback writes exactly <see cref="ByteLength"/> bytes to the stream it is given;
    /// the callback runs once, when the writer reaches this tensor, so data can be produced (converted, quantized) on the fly.
    /// </summary>
    public TensorToWrite(string name, DType dtype, Shape shape, Action<Stream> writeData)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(writeData);
        Name = name;
        DType = dtype;
        Shape = shape;
        ByteLength = checked(shape.NumElements * dtype.SizeOf());
        _writeData = writeData;
    }

    /// <summary>Tensor name in the checkpoint.</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public DType DType { get; }

    /// <summary>Row-major shape.</summary>
    public Shape Shape { get; }

    /// <summary>Number of data bytes.</summary>
    public long ByteLength { get; }

    /// <summary>Writes the bytes of an existing weight (which must stay valid until the write finishes), optionally renamed.</summary>
    public static unsafe TensorToWrite FromWeight(Weight weight, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        return new TensorToWrite(name ?? weight.Name, weight.DType, weight.Shape, stream =>
        {
            // Chunked so weights over 2 GiB (beyond one span) are written too.
            const long chunk = 1L << 30;
            for (long done = 0; done < weight.ByteLength; done += chunk)
                stream.Write(new ReadOnlySpan<byte>((byte*)weight.Pointer + done, (int)Math.Min(chunk, weight.ByteLength - done)));
        });
    }

    /// <summary>Writes bytes held in memory; their length must equal the size implied by <paramref name="dtype"/> and <paramref name="shape"/>.</summary>
    public static TensorToWrite FromBytes(string name, DType dtype, Shape shape, ReadOnlyMemory<byte> data)
    {
        long expected = checked(shape.NumElements * dtype.SizeOf());
        if (data.Length != expected)
            throw new ArgumentException($"tensor '{name}' {dtype} {shape} needs {expected} bytes, got {data.Length}", nameof(data));
        return new TensorToWrite(name, dtype, shape, stream => stream.Write(data.Span));
    }

    /// <summary>Runs the data callback.</summary>
    internal void WriteData(Stream stream) => _writeData(stream);
}
