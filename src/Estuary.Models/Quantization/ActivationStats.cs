// Per-input-channel statistics of the activations entering one linear layer during calibration, plus a bounded sample of rows.
// Invariant: memory is O(K · MaxSampleRows) whatever the number of calibration tokens.
namespace Estuary.Models.Quantization;

/// <summary>Mean |x| and mean x² per input channel, and the first rows seen (for output-error evaluation).</summary>
public sealed class ActivationStats(int k, int maxSampleRows)
{
    private readonly double[] _sumAbs = new double[k]; // [K]
    private readonly double[] _sumSq = new double[k];  // [K]
    private readonly float[] _sample = new float[(long)k * maxSampleRows]; // [MaxSampleRows, K]

    /// <summary>K.</summary>
    public int InFeatures => k;

    /// <summary>Rows accumulated.</summary>
    public long NumRows { get; private set; }

    /// <summary>Rows kept in <see cref="Sample"/>.</summary>
    public int NumSampleRows { get; private set; }

    /// <summary>[NumSampleRows, K] the first rows seen.</summary>
    public ReadOnlySpan<float> Sample => _sample.AsSpan(0, NumSampleRows * k);

    /// <summary>Adds rows x [T, K].</summary>
    public void Add(ReadOnlySpan<float> x)
    {
        int rows = x.Length / k;
        for (int t = 0; t < rows; t++)
        {
            var row = x.Slice(t * k, k);
            for (int i = 0; i < k; i++)
            {
                _sumAbs[i] += Math.Abs(row[i]);
                _sumSq[i] += (double)row[i] * row[i];
            }
            if (NumSampleRows < maxSampleRows) row.CopyTo(_sample.AsSpan(NumSampleRows++ * k, k));
        }
        NumRows += rows;
    }

    /// <summary>Mean |x| per channel [K].</summary>
    public float[] MeanAbs() => [.. _sumAbs.Select(v => (float)(v / Math.Max(1, NumRows)))];

    /// <summary>Mean x² per channel [K].</summary>
    public float[] MeanSquare() => [.. _sumSq.Select(v => (float)(v / Math.Max(1, NumRows)))];
}
