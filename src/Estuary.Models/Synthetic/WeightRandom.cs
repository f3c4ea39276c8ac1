// Fast seeded generator of approximately normal values for random checkpoint weights (splitmix64 + Irwin–Hall of four 16-bit uniforms).
// Invariant: the stream depends only on (seed, tensor name), so a tensor's values do not change with write order or sharding.
namespace Estuary.Models.Synthetic;

internal struct WeightRandom
{
    // Sum of four uniforms on [0, 65535] has mean 131070 and standard deviation 65536·sqrt(4/12) (to within 1e-5).
    private const double SumMean = 4 * 65535 / 2.0;
    private static readonly double s_sumStd = 65536 * Math.Sqrt(4 / 12.0);

    private ulong _state;

    public WeightRandom(int seed, string tensorName)
    {
        // FNV-1a of the name, mixed with the seed.
        ulong h = 14695981039346656037UL;
        foreach (char c in tensorName)
        {
            h ^= c;
            h *= 1099511628211UL;
        }
        _state = h ^ ((ulong)(uint)seed * 0x9E3779B97F4A7C15UL);
    }

    /// <summary>Fills <paramref name="values"/> with mean + std·z, z approximately standard normal (bounded by ±3.46).</summary>
    public void FillNormal(Span<float> values, float mean, float std)
    {
        double scale = std / s_sumStd;
        for (int i = 0; i < values.Length; i++)
        {
            ulong r = Next();
            long sum = (long)(r & 0xFFFF) + (long)((r >> 16) & 0xFFFF) + (long)((r >> 32) & 0xFFFF) + (long)(r >> 48);
            values[i] = (float)(mean + (sum - SumMean) * scale);
        }
    }

    private ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
