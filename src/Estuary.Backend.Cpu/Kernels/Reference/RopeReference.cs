// Scalar twin of RopeKernel: q·cos + rotate_half(q)·sin with rotate_half(x) = [-x2, x1] on each head.
using Estuary.Tensors;

namespace Estuary.Backend.Cpu.Kernels.Reference;

/// <summary>Obviously-correct RoPE for tests, written in the Hugging Face form (full-width cos/sin, rotate_half).</summary>
internal static class RopeReference
{
    /// <summary>x[T, heads·stride] in place at positions[t]: the first D = table.HeadDim of each head (stride ≥ D).</summary>
    public static void Run(Span<float> x, int tokens, int heads, RopeTable table, ReadOnlySpan<int> positions, int stride = 0)
    {
        int d = table.HeadDim, half = d / 2;
        if (stride == 0) stride = d;
        var rotated = new float[d];
        for (int t = 0; t < tokens; t++)
        {
            int p = positions[t];
            for (int h = 0; h < heads; h++)
            {
                var v = x.Slice((t * heads + h) * stride, d);
                for (int i = 0; i < d; i++) rotated[i] = i < half ? -v[i + half] : v[i - half];
                for (int i = 0; i < d; i++)
                {
                    // cos/sin duplicated [f, f]: index i uses frequency i mod D/2.
                    float c = table.Cos[p * half + i % half], s = table.Sin[p * half + i % half];
                    rotated[i] = v[i] * c + rotated[i] * s;
                }
                rotated.CopyTo(v);
            }
        }
    }
}
