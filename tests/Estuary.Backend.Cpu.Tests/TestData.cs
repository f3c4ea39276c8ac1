// Test helpers: seeded random data, weights in any float dtype (values rounded once to the dtype), tolerance checks.
using Estuary.Tensors;

namespace Estuary.BackendCpu.Tests;

internal static class TestData
{
    public static readonly DType[] FloatDTypes = [DType.F32, DType.F16, DType.BF16];

    public static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)((rng.NextDouble() * 2 - 1) * scale);
        return a;
    }

    /// <summary>A weight of <paramref name="shape"/> in <paramref name="dtype"/> holding <paramref name="values"/> rounded to that dtype.</summary>
    public static unsafe Weight MakeWeight(float[] values, DType dtype, params long[] shape)
    {
        var storage = new NativeWeightStorage(values.Length * (long)dtype.SizeOf() + 16);
        // Offset by 2 bytes for 2-byte dtypes so kernels never rely on alignment.
        long offset = dtype == DType.F32 ? 4 : 2;
        byte* p = (byte*)storage.Pointer + offset;
        for (int i = 0; i < values.Length; i++)
        {
            switch (dtype)
            {
                case DType.F32: ((float*)p)[i] = values[i]; break;
                case DType.F16: ((ushort*)p)[i] = BitConverter.HalfToUInt16Bits((Half)values[i]); break;
                case DType.BF16: ((ushort*)p)[i] = ToBf16(values[i]); break;
                default: throw new ArgumentOutOfRangeException(nameof(dtype));
            }
        }
        return new Weight("test.weight", dtype, new Shape(shape), storage, offset);
    }

    /// <summary>A weight whose raw 16-bit patterns are given (F16 / BF16 special values).</summary>
    public static unsafe Weight MakeRawWeight(ushort[] bits, DType dtype, int rows, int cols)
    {
        var storage = new NativeWeightStorage(bits.Length * 2L);
        bits.AsSpan().CopyTo(new Span<ushort>((void*)storage.Pointer, bits.Length));
        return new Weight("raw", dtype, new Shape(rows, cols), storage, 0);
    }

    public static ushort ToBf16(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        return (ushort)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
    }

    /// <summary>Asserts |a - e| ≤ rel·max(|e|, floor) element-wise, naming the first failing index.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float rel, float floor, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float tol = rel * Math.Max(Math.Abs(expected[i]), floor);
            if (!(Math.Abs(expected[i] - actual[i]) <= tol))
                Assert.Fail($"{what}: element {i}: expected {expected[i]:R}, got {actual[i]:R} (tolerance {tol:G3})");
        }
    }

    public static float[] Download(IBackend backend, DeviceTensor t)
    {
        var a = new float[t.Rows * t.Cols];
        backend.Download(t, a);
        return a;
    }

    public static DeviceTensor Upload(IBackend backend, float[] data, int rows, int cols)
    {
        var t = backend.Allocate(rows, cols);
        backend.Upload(data, t);
        return t;
    }
}
