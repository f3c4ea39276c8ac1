// Precomputed rotary-embedding cos/sin tables (Hugging Face rotate_half layout) for positions 0..MaxPositions-1.
// Invariant: Cos/Sin[p, j] = Scale · cos/sin(p · θ_j) with the angle in double, rounded once to float, where θ = InverseFrequencies
// for p < SwitchPosition and LongInverseFrequencies from there on (LongRoPE; one set otherwise); the inverse frequencies are
// float32 values (as Hugging Face keeps them), positive and finite, D/2 of them, D the rotated dimensions of a head.
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
        : this(maxPositions, inverseFrequencies, [], int.MaxValue, 1.0)
    {
    }

    /// <summary>
    /// Builds a LongRoPE table: <paramref name="inverseFrequencies"/> for positions below <paramref name="switchPosition"/>,
    /// <paramref name="longInverseFrequencies"/> (as many, or none: the first set everywhere) from it on, cos and sin multiplied by
    /// <paramref name="scale"/>.
    /// </summary>
    /// <exception cref="ArgumentException">no frequencies, one that is not a positive finite number, sets of different sizes, or a
    /// scale that is not a positive finite number.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxPositions"/> is not positive, or the table would not fit an array.</exception>
    public RopeTable(int maxPositions, ReadOnlySpan<float> inverseFrequencies, ReadOnlySpan<float> longInverseFrequencies, int switchPosition, double scale)
    {
        if (inverseFrequencies.IsEmpty) throw new ArgumentException("RoPE needs at least one frequency", nameof(inverseFrequencies));
        CheckFrequencies(inverseFrequencies, nameof(inverseFrequencies));
        CheckFrequencies(longInverseFrequencies, nameof(longInverseFrequencies));
        if (!longInverseFrequencies.IsEmpty && longInverseFrequencies.Length != inverseFrequencies.Length)
            throw new ArgumentException($"RoPE has {inverseFrequencies.Length} short and {longInverseFrequencies.Length} long frequencies; they must be as many", nameof(longInverseFrequencies));
        if (!(scale > 0 && double.IsFinite(scale))) throw new ArgumentException($"RoPE scale {scale} must be positive and finite", nameof(scale));
        if (maxPositions <= 0) throw new ArgumentOutOfRangeException(nameof(maxPositions));
        int half = inverseFrequencies.Length;
        if ((long)maxPositions * half > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(maxPositions),
                $"a RoPE table for {maxPositions} positions × {half} frequencies is too large; the model's max_position_embeddings is implausible");
        HeadDim = 2 * half;
        MaxPositions = maxPositions;
        _inverseFrequencies = inverseFrequencies.ToArray();
        _longInverseFrequencies = longInverseFrequencies.ToArray();
        SwitchPosition = _longInverseFrequencies.Length == 0 ? int.MaxValue : Math.Max(0, switchPosition);
        Scale = scale;
        Cos = new float[maxPositions * half];
        Sin = new float[maxPositions * half];
        for (int j = 0; j < half; j++)
        {
            for (int p = 0; p < maxPositions; p++)
            {
                double angle = p * (double)(p < SwitchPosition ? _inverseFrequencies[j] : _longInverseFrequencies[j]);
                Cos[p * half + j] = scale == 1.0 ? (float)Math.Cos(angle) : (float)(scale * Math.Cos(angle));
                Sin[p * half + j] = scale == 1.0 ? (float)Math.Sin(angle) : (float)(scale * Math.Sin(angle));
            }
        }
    }

    private static void CheckFrequencies(ReadOnlySpan<float> inverseFrequencies, string name)
    {
        for (int j = 0; j < inverseFrequencies.Length; j++)
        {
            if (!(inverseFrequencies[j] > 0 && float.IsFinite(inverseFrequencies[j])))
                throw new ArgumentException($"RoPE inverse frequency {j} is {inverseFrequencies[j]}; it must be positive and finite", name);
        }
    }

    private readonly float[] _longInverseFrequencies;

    /// <summary>The first position rotated by <see cref="LongInverseFrequencies"/> (int.MaxValue: none is).</summary>
    public int SwitchPosition { get; }

    /// <summary>What every cos and sin is multiplied by (LongRoPE's attention factor; 1 otherwise).</summary>
    public double Scale { get; }

    /// <summary>LongRoPE's frequencies from <see cref="SwitchPosition"/> on (empty: the one set everywhere).</summary>
    public ReadOnlySpan<float> LongInverseFrequencies => _longInverseFrequencies;

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

    /// <summary>D: the dimensions of a head it rotates (all of them, or the first D of a wider head with partial rotary).</summary>
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
