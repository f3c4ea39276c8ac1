// Precomputed rotary-embedding cos/sin tables (Hugging Face rotate_half layout) for positions 0..MaxPositions-1.
// Invariant: Cos/Sin[p, j] = cos/sin(p · InverseFrequencies[j]) with the angle in double, rounded once to float; the inverse
// frequencies are float32 values (as Hugging Face keeps them), positive and finite, D/2 of them.
namespace Estuary.Tensors;

/// <summary>cos/sin of p·θ_j for p &lt; MaxPositions and j &lt; D/2: θ_j = base^(-2j/D) by default, or any scaled set of inverse
/// frequencies (RoPE scaling is computed by the model layer and handed in); angles are computed in double then rounded.</summary>
public sealed class RopeTable
{
    private readonly float[] _inverseFrequencies;

    /// <summary>Builds the unscaled table: θ_j = <paramref name="theta"/>^(-2j/<paramref name="headDim"/>).</summary>
    public RopeTable(int headDim, int maxPositions, double theta)
        : this(maxPositions, DefaultInverseFrequencies(headDim, theta))
    {
    }

    /// <summary>Builds the table for the given inverse frequencies θ_j (D/2 of them, so D = 2 · their count).</summary>
    /// <exception cref="ArgumentException">no frequencies, or one that is not a positive finite number.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxPositions"/> is not positive, or the table would not fit an array.</exception>
    public RopeTable(int maxPositions, ReadOnlySpan<float> inverseFrequencies)
    {
        if (inverseFrequencies.IsEmpty) throw new ArgumentException("RoPE needs at least one frequency", nameof(inverseFrequencies));
        for (int j = 0; j < inverseFrequencies.Length; j++)
        {
            if (!(inverseFrequencies[j] > 0 && float.IsFinite(inverseFrequencies[j])))
                throw new ArgumentException($"RoPE inverse frequency {j} is {inverseFrequencies[j]}; it must be positive and finite", nameof(inverseFrequencies));
        }
        if (maxPositions <= 0) throw new ArgumentOutOfRangeException(nameof(maxPositions));
        int half = inverseFrequencies.Length;
        if ((long)maxPositions * half > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(maxPositions),
                $"a RoPE table for {maxPositions} positions × {half} frequencies is too large; the model's max_position_embeddings is implausible");
        HeadDim = 2 * half;
        MaxPositions = maxPositions;
        _inverseFrequencies = inverseFrequencies.ToArray();
        Cos = new float[maxPositions * half];
        Sin = new float[maxPositions * half];
        for (int j = 0; j < half; j++)
        {
            double invFreq = _inverseFrequencies[j];
            for (int p = 0; p < maxPositions; p++)
            {
                double angle = p * invFreq;
                Cos[p * half + j] = (float)Math.Cos(angle);
                Sin[p * half + j] = (float)Math.Sin(angle);
            }
        }
    }

    /// <summary>
    /// The unscaled inverse frequencies θ_j = <paramref name="theta"/>^(-2j/<paramref name="headDim"/>), j &lt; D/2, computed in double and
    /// rounded once to float. Hugging Face computes them in float32 (a float32 pow, then a float32 reciprocal), which can differ from
    /// these by one float32 ulp in some frequencies.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="headDim"/> is not even and positive.</exception>
    public static float[] DefaultInverseFrequencies(int headDim, double theta)
    {
        if (headDim <= 0 || headDim % 2 != 0) throw new ArgumentOutOfRangeException(nameof(headDim), "RoPE head dim must be even and positive");
        var result = new float[headDim / 2];
        for (int j = 0; j < result.Length; j++) result[j] = (float)(1.0 / Math.Pow(theta, 2.0 * j / headDim));
        return result;
    }

    /// <summary>D.</summary>
    public int HeadDim { get; }

    /// <summary>Positions covered.</summary>
    public int MaxPositions { get; }

    /// <summary>θ_j, the D/2 inverse frequencies (radians per position) the table was built from.</summary>
    public ReadOnlySpan<float> InverseFrequencies => _inverseFrequencies;

    /// <summary>[MaxPositions, D/2] cosines.</summary>
    public float[] Cos { get; }

    /// <summary>[MaxPositions, D/2] sines.</summary>
    public float[] Sin { get; }
}
