// Converts between stored tensor bytes (F32/F16/BF16, little-endian) and float rows, a chunk at a time, for the merge writer.
// Invariant: BF16 encoding rounds to nearest even and keeps NaN a NaN; F16 uses Half's IEEE rounding.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Estuary.Tensors;

namespace Estuary.Models.Lora;

/// <summary>Float ⇄ stored-dtype conversion of contiguous element ranges.</summary>
internal static unsafe class FloatRows
{
    /// <summary>dst ← elements [start, start + dst.Length) of <paramref name="w"/>, widened to float.</summary>
    public static void Read(Weight w, long start, Span<float> dst)
    {
        byte* p = (byte*)w.Pointer + start * w.DType.SizeOf();
        switch (w.DType)
        {
            case DType.F32:
                new ReadOnlySpan<float>(p, dst.Length).CopyTo(dst);
                break;
            case DType.F16:
                var h = new ReadOnlySpan<Half>(p, dst.Length);
                for (int i = 0; i < dst.Length; i++) dst[i] = (float)h[i];
                break;
            case DType.BF16:
                var b = new ReadOnlySpan<ushort>(p, dst.Length);
                for (int i = 0; i < dst.Length; i++) dst[i] = BitConverter.Int32BitsToSingle(b[i] << 16);
                break;
            default:
                throw new InvalidOperationException($"tensor '{w.Name}' has non-float dtype {w.DType}");
        }
    }

    /// <summary>Encodes <paramref name="values"/> as <paramref name="dtype"/> into <paramref name="bytes"/>; returns the byte count.</summary>
    public static int Write(ReadOnlySpan<float> values, DType dtype, Span<byte> bytes)
    {
        switch (dtype)
        {
            case DType.F32:
                MemoryMarshal.AsBytes(values).CopyTo(bytes);
                return 4 * values.Length;
            case DType.F16:
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteHalfLittleEndian(bytes[(2 * i)..], (Half)values[i]);
                return 2 * values.Length;
            case DType.BF16:
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes[(2 * i)..], ToBf16(values[i]));
                return 2 * values.Length;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "output dtype must be F32, F16 or BF16");
        }
    }

    /// <summary>A copy of <paramref name="w"/> (row-major) stored as <paramref name="dtype"/>, in native memory of its own.</summary>
    public static Weight Convert(Weight w, DType dtype)
    {
        var storage = new NativeWeightStorage(w.Shape.NumElements * dtype.SizeOf(), zeroed: false);
        var row = new float[w.Cols];
        long rowBytes = (long)w.Cols * dtype.SizeOf();
        for (int r = 0; r < w.Rows; r++)
        {
            Read(w, (long)r * w.Cols, row);
            Write(row, dtype, new Span<byte>((byte*)storage.Pointer + r * rowBytes, checked((int)rowBytes)));
        }
        return new Weight(w.Name, dtype, w.Shape, storage, 0);
    }

    private static ushort ToBf16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40); // keep it a (quiet) NaN rather than rounding to infinity
        bits += 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)(bits >> 16);
    }
}
