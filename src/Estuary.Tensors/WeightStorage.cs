// Owns the memory that weights point into (a memory-mapped file view or a native buffer) and keeps it alive.
// Invariant: the pointer stays valid until Dispose; weights hold a reference so storage outlives them.
using System.Runtime.InteropServices;

namespace Estuary.Tensors;

/// <summary>Memory that <see cref="Weight"/>s point into.</summary>
public abstract class WeightStorage : IDisposable
{
    /// <summary>Start of the memory.</summary>
    public abstract nint Pointer { get; }

    /// <summary>Length in bytes.</summary>
    public abstract long ByteLength { get; }

    /// <summary>Releases the memory.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the memory.</summary>
    protected abstract void Dispose(bool disposing);
}

/// <summary>64-byte aligned native memory owned by this object (quantized weights, converted tensors).</summary>
public sealed unsafe class NativeWeightStorage : WeightStorage
{
    private nint _pointer;

    /// <summary>Allocates <paramref name="byteLength"/> zeroed bytes.</summary>
    public NativeWeightStorage(long byteLength) : this(byteLength, zeroed: true)
    {
    }

    /// <summary>
    /// Allocates <paramref name="byteLength"/> bytes, zeroed only if asked (a caller about to overwrite them skips the pass).
    /// Buffers of 2 MiB or more are 2 MiB aligned and advised for transparent huge pages on Linux: streaming weights through
    /// 4 KiB pages costs a TLB walk per page and stops the hardware prefetcher at every page boundary.
    /// </summary>
    public NativeWeightStorage(long byteLength, bool zeroed)
    {
        ByteLength = byteLength;
        const long huge = 2L << 20;
        bool large = byteLength >= huge;
        nuint size = (nuint)Math.Max(byteLength, 1);
        if (large) size = (nuint)((byteLength + huge - 1) / huge * huge);
        _pointer = (nint)NativeMemory.AlignedAlloc(size, large ? (nuint)huge : 64);
        if (large && OperatingSystem.IsLinux()) HugePages.Advise(_pointer, size);
        if (zeroed) NativeMemory.Clear((void*)_pointer, (nuint)byteLength);
    }

    /// <inheritdoc />
    public override nint Pointer => _pointer != 0 ? _pointer : throw new ObjectDisposedException(nameof(NativeWeightStorage));

    /// <inheritdoc />
    public override long ByteLength { get; }

    /// <summary>The bytes as a span (only for buffers under 2 GiB).</summary>
    public Span<byte> Bytes => new((void*)Pointer, checked((int)ByteLength));

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (_pointer != 0)
        {
            NativeMemory.AlignedFree((void*)_pointer);
            _pointer = 0;
        }
    }

    /// <summary>Frees the memory if Dispose was not called.</summary>
    ~NativeWeightStorage() => Dispose(false);
}
