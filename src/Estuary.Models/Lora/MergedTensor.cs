// Produces one output tensor of a merge on demand: the base tensor (or its full replacement) plus s·B·A, converted to the output dtype.
// Invariant: works a chunk of rows at a time (≈ 1M elements), so memory stays one chunk whatever the tensor size.
using System.Numerics;
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models.Lora;

/// <summary>Builds the <see cref="TensorToWrite"/> of one merged, replaced or converted tensor.</summary>
internal static class MergedTensor
{
    private const int ChunkElements = 1 << 20;

    /// <summary>
    /// The tensor <paramref name="name"/> written as <paramref name="outType"/> from <paramref name="source"/> [N, K] plus, when
    /// <paramref name="lora"/> is given, s·B·A (or its transpose). Non-float tensors are copied unchanged. <paramref name="written"/> runs
    /// after the data was streamed.
    /// </summary>
    public static TensorToWrite Create(string name, Weight source, LoraModule? lora, DType outType, Action written)
    {
        bool isFloat = source.DType is DType.F32 or DType.F16 or DType.BF16;
        if (!isFloat || (lora == null && source.DType == outType))
        {
            var raw = TensorToWrite.FromWeight(source, name);
            return new TensorToWrite(name, source.DType, source.Shape, stream =>
            {
                raw.WriteData(stream);
                written();
            });
        }
        return new TensorToWrite(name, outType, source.Shape, stream =>
        {
            Stream(source, lora, outType, stream);
            written();
        });
    }

    private static void Stream(Weight source, LoraModule? lora, DType outType, Stream stream)
    {
        int rows = source.Rows, cols = source.Cols;
        int chunkRows = Math.Max(1, ChunkElements / Math.Max(cols, 1));
        var values = new float[(long)Math.Min(chunkRows, rows) * cols];
        var bytes = new byte[values.Length * outType.SizeOf()];
        var factors = lora == null ? null : Factors.From(lora);
        for (int r0 = 0; r0 < rows; r0 += chunkRows)
        {
            int n = Math.Min(chunkRows, rows - r0);
            var chunk = values.AsSpan(0, n * cols);
            FloatRows.Read(source, (long)r0 * cols, chunk);
            if (factors != null) factors.AddDelta(values, r0, n, cols);
            stream.Write(bytes.AsSpan(0, FloatRows.Write(chunk, outType, bytes)));
        }
    }

    // Delta = s · P·Q with P [rows, r] and Q [r, cols]: P = B, Q = A normally; P = Aᵀ, Q = Bᵀ for weights stored [in, out].
    private sealed class Factors(float[] p, float[] q, int rank, float scale)
    {
        public static Factors From(LoraModule m)
        {
            int r = m.Rank;
            var a = new float[m.A.Shape.NumElements];   // [r, in]
            var b = new float[m.B.Shape.NumElements];   // [out, r]
            FloatRows.Read(m.A, 0, a);
            FloatRows.Read(m.B, 0, b);
            if (!m.Transposed) return new Factors(b, a, r, m.Scale);
            int inDim = m.A.Cols, outDim = m.B.Rows;
            var p = new float[a.Length];                 // [in, r]
            var q = new float[b.Length];                 // [r, out]
            for (int k = 0; k < r; k++)
            {
                for (int i = 0; i < inDim; i++) p[i * r + k] = a[k * inDim + i];
                for (int o = 0; o < outDim; o++) q[k * outDim + o] = b[o * r + k];
            }
            return new Factors(p, q, r, m.Scale);
        }

        /// <summary>values[i, :] += s · Σ_k P[r0 + i, k] · Q[k, :] for the n rows of the chunk.</summary>
        public void AddDelta(float[] values, int r0, int n, int cols)
        {
            // 2·r·cols FLOPs per row; rows are independent, so big chunks are spread over the cores.
            if ((long)n * cols * rank < 1 << 18)
            {
                for (int i = 0; i < n; i++) Row(values, r0, i, cols);
                return;
            }
            Parallel.For(0, n, i => Row(values, r0, i, cols));
        }

        private void Row(float[] values, int r0, int i, int cols)
        {
            var dst = values.AsSpan(i * cols, cols);
            for (int k = 0; k < rank; k++)
            {
                float c = scale * p[(long)(r0 + i) * rank + k];
                if (c == 0) continue;
                Axpy(c, q.AsSpan(k * cols, cols), dst);
            }
        }

        // Hot loop: y += c·x, Vector<float>-wide FMA with a scalar tail.
        private static void Axpy(float c, ReadOnlySpan<float> x, Span<float> y)
        {
            int i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var vc = new Vector<float>(c);
                int w = Vector<float>.Count;
                for (; i + w <= x.Length; i += w) Vector.FusedMultiplyAdd(vc, new Vector<float>(x[i..]), new Vector<float>(y[i..])).CopyTo(y[i..]);
            }
            for (; i < x.Length; i++) y[i] = MathF.FusedMultiplyAdd(c, x[i], y[i]);
        }
    }
}
