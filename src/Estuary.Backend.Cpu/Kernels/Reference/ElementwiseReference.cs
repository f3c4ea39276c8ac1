// Scalar twins of the elementwise kernels: SiluMul, Add, ScaleColumns, GatherRows and Embedding.
using Estuary.Tensors;

namespace Estuary.Backend.Cpu.Kernels.Reference;

/// <summary>Obviously-correct elementwise ops for tests.</summary>
internal static class ElementwiseReference
{
    /// <summary>y = g / (1 + e^-g) · u, in double.</summary>
    public static void SiluMul(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> y)
    {
        for (int i = 0; i < y.Length; i++) y[i] = (float)(gate[i] / (1 + Math.Exp(-gate[i])) * up[i]);
    }

    /// <summary>x += y.</summary>
    public static void Add(Span<float> x, ReadOnlySpan<float> y)
    {
        for (int i = 0; i < x.Length; i++) x[i] += y[i];
    }

    /// <summary>y[t, n] *= scales[n].</summary>
    public static void ScaleColumns(Span<float> y, ReadOnlySpan<float> scales)
    {
        for (int i = 0; i < y.Length; i++) y[i] *= scales[i % scales.Length];
    }

    /// <summary>y[i, :] = x[rows[i], :].</summary>
    public static void GatherRows(ReadOnlySpan<float> x, int cols, ReadOnlySpan<int> rows, Span<float> y)
    {
        for (int i = 0; i < rows.Length; i++) x.Slice(rows[i] * cols, cols).CopyTo(y.Slice(i * cols, cols));
    }

    /// <summary>y[t, :] = table[ids[t], :] via Weight.GetFloat.</summary>
    public static void Embedding(Weight table, ReadOnlySpan<int> ids, Span<float> y)
    {
        int h = table.Cols;
        for (int t = 0; t < ids.Length; t++)
        {
            for (int i = 0; i < h; i++) y[t * h + i] = table.GetFloat((long)ids[t] * h + i);
        }
    }
}
