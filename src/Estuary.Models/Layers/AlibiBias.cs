// ALiBi slopes of the original recipe for any head count (Baichuan2-13B: 40 heads, not a power of two).
namespace Estuary.Models.Layers;

/// <summary>ALiBi head slopes.</summary>
public static class AlibiBias
{
    /// <summary>
    /// Slopes for <paramref name="numHeads"/> heads: for a power of two n, start = 2^(-8/n) and slopes start^1..start^n;
    /// otherwise the slopes of the closest lower power of two c, then every other slope of the 2c recipe, n − c of them.
    /// </summary>
    public static float[] Slopes(int numHeads)
    {
        if (numHeads <= 0) throw new ArgumentOutOfRangeException(nameof(numHeads), "head count must be positive");
        var slopes = SlopesDouble(numHeads);
        var result = new float[numHeads];
        for (int i = 0; i < numHeads; i++) result[i] = (float)slopes[i];
        return result;
    }

    private static double[] SlopesDouble(int n)
    {
        if ((n & (n - 1)) == 0) return PowerOfTwoSlopes(n);
        int closest = 1 << (int)Math.Floor(Math.Log2(n));
        var lower = PowerOfTwoSlopes(closest);
        var doubled = PowerOfTwoSlopes(2 * closest);
        var result = new double[n];
        lower.CopyTo(result, 0);
        for (int i = 0; i < n - closest; i++) result[closest + i] = doubled[2 * i];
        return result;
    }

    private static double[] PowerOfTwoSlopes(int n)
    {
        double start = Math.Pow(2, -Math.Pow(2, -(Math.Log2(n) - 3)));
        var slopes = new double[n];
        for (int i = 0; i < n; i++) slopes[i] = Math.Pow(start, i + 1);
        return slopes;
    }
}
