// A whole file memory-mapped read-only, exposed as WeightStorage so weights can point straight into it.
// Invariant: the view pointer is acquired once in the constructor and released exactly once in Dispose.
using System.IO.MemoryMappedFiles;
using Estuary.Tensors;

namespace Estuary.Models.Loading;

/// <summary>A read-only memory map of a whole file; weights loaded from it are zero-copy views.</summary>
public sealed unsafe class MappedFileStorage : WeightStorage
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private nint _pointer;

    /// <summary>Maps <paramref name="path"/> read-only; throws <see cref="CheckpointException"/> if it cannot be opened or is empty.</summary>
    public MappedFileStorage(string path)
    {
        Path = path;
        FileStream stream;
        try
        {
            // FileShare.Read: other readers may map the same checkpoint, but nobody may rewrite it under us.
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"{path}: cannot open file: {e.Message}", e);
        }

        MemoryMappedFile? file = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            ByteLength = stream.Length;
            // A zero-length file cannot be mapped; report it as what it is for the user.
            if (ByteLength == 0) throw new CheckpointException($"{path}: file is empty");
            file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            // The view may start before the requested offset (page alignment); PointerOffset corrects for it.
            _pointer = (nint)(p + view.PointerOffset);
        }
        catch (Exception e)
        {
            view?.Dispose();
            if (file != null) file.Dispose();
            else stream.Dispose();
            if (e is CheckpointException) throw;
            throw new CheckpointException($"{path}: cannot memory-map file: {e.Message}", e);
        }
        _file = file;
        _view = view;
    }

    /// <summary>The mapped file (for error messages).</summary>
    public string Path { get; }

    /// <inheritdoc />
    public override nint Pointer => _pointer != 0 ? _pointer : throw new ObjectDisposedException(nameof(MappedFileStorage), Path);

    /// <inheritdoc />
    public override long ByteLength { get; }

    /// <summary>The bytes [offset, offset+length) of the file (length under 2 GiB).</summary>
    public ReadOnlySpan<byte> Slice(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset + length > ByteLength)
            throw new ArgumentOutOfRangeException(nameof(offset), $"{Path}: range [{offset}, {offset + length}) outside file of {ByteLength} bytes");
        return new ReadOnlySpan<byte>((byte*)Pointer + offset, length);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (_pointer == 0) return;
        _pointer = 0;
        // Only reached from Dispose(): the SafeHandles release themselves if the object is merely collected.
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
