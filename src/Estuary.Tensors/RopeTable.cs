// Precomputed rotary-embedding cos/sin tables (Hugging Face rotate_half layout) for positions 0..MaxPositions-1.
namespace Estuary.Tensors;

/// <summary>cos/sin of p·θ_j for p &lt; MaxPositions and j &lt; D/2, with θ_j = base^(-2j/D), computed in double then rounded.</summary>
public sealed class RopeTable
{
    /// <summary>Builds the table.</summary>
    public RopeTable(int headDim, int maxPositions, double theta)
    {
        if (headDim <= 0 || headDim % 2 != 0) throw new ArgumentOutOfRangeException(nameof(headDim), "RoPE head dim must be even and positive");
        if (maxPositions <= 0) throw new ArgumentOutOfRangeException(nameof(maxPositions));
        HeadDim = headDim;
        MaxPositions = maxPositions;
        Theta = theta;
        int half = headDim / 2;
        if ((long)maxPositions * half > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(maxPositions),
                $"a RoPE table for {maxPositions} positions × {half} frequencies is too large; the model's max_position_embeddings is implausible");
        Cos = new float[maxPositions * half];
        Sin = new float[maxPositions * half];
        for (int j = 0; j < half; j++)
        {
            // HF computes inv_freq in float32; rounding it first keeps us within float noise of the reference.
            float invFreq = (float)(1.0 / Math.Pow(theta, 2.0 * j / headDim));
            for (int p = 0; p < maxPositions; p++)
            {
                double angle = p * (double)invFreq;
                Cos[p * half + j] = (float)Math.Cos(angle);
                Sin[p * half + j] = (float)Math.Sin(angle);
            }
        }
    }

    /// <summary>D.</summary>
    public int HeadDim { get; }

    /// <summary>Positions covered.</summary>
    public int MaxPositions { get; }

    /// <summary>RoPE base.</summary>
    public double Theta { get; }

    /// <summary>[MaxPositions, D/2] cosines.</summary>
    public float[] Cos { get; }

    /// <summary>[MaxPositions, D/2] sines.</summary>
    public float[] Sin { get; }
}
