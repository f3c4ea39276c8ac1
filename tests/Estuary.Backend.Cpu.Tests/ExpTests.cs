// VectorMath.Exp (softmax and SiLU): accuracy against double-precision exp over the float range it covers, the same bits from the
// 8-lane and scalar forms, and the edges (0, ±∞, NaN, underflow to 0).
using Estuary.Backend.Cpu.Kernels;

namespace Estuary.BackendCpu.Tests;

public sealed class ExpTests
{
    private static float[] Inputs()
    {
        var rng = new Random(5);
        var xs = new List<float>();
        for (int i = 0; i < 200_000; i++) xs.Add((float)(rng.NextDouble() * 175.3 - 87.3));
        for (int i = 0; i < 20_000; i++) xs.Add((float)(rng.NextDouble() * 2 - 1) * 1e-3f);
        for (float x = -20; x <= 20; x += 0.125f) xs.Add(x); // exact multiples of ln 2 neighbourhoods and integers
        xs.AddRange([0f, -0f, 1f, -1f, 88f, -87.33f, -87.4f, -100f, 88.5f, 1000f, -1000f, float.NegativeInfinity, float.PositiveInfinity, float.NaN]);
        while (xs.Count % 8 != 0) xs.Add(0.5f);
        return [.. xs];
    }

    [Fact]
    public void WithinTwoUlpOfTheExactValueAcrossTheRange()
    {
        double worst = 0;
        float worstX = 0;
        foreach (float x in Inputs())
        {
            if (!float.IsFinite(x) || x < -87.3f || x > 88f) continue;
            double exact = Math.Exp(x);
            double ulp = MathF.BitIncrement((float)exact) - (float)exact;
            double e = Math.Abs(VectorMath.Exp(x) - exact) / ulp;
            if (e > worst) (worst, worstX) = (e, x);
        }
        Assert.True(worst <= 2.0, $"worst error {worst:F2} ulp at x = {worstX:R}: {VectorMath.Exp(worstX):R} vs {Math.Exp(worstX):R}");
    }

    [Fact]
    public void VectorLanesEqualTheScalarFormBitForBit()
    {
        var xs = Inputs();
        for (int i = 0; i < xs.Length; i += 8)
        {
            var v = VectorMath.Exp(System.Runtime.Intrinsics.Vector256.Create(xs.AsSpan(i, 8)));
            for (int j = 0; j < 8; j++)
            {
                float s = VectorMath.Exp(xs[i + j]);
                if (float.IsNaN(s)) Assert.True(float.IsNaN(v[j]));
                else Assert.Equal(BitConverter.SingleToInt32Bits(s), BitConverter.SingleToInt32Bits(v[j]));
            }
        }
    }

    [Fact]
    public void WideVectorLanesEqualTheScalarFormBitForBit()
    {
        var xs = Inputs();
        for (int i = 0; i + 16 <= xs.Length; i += 16)
        {
            var v = VectorMath.Exp(System.Runtime.Intrinsics.Vector512.Create(xs.AsSpan(i, 16)));
            for (int j = 0; j < 16; j++)
            {
                float s = VectorMath.Exp(xs[i + j]);
                if (float.IsNaN(s)) Assert.True(float.IsNaN(v[j]));
                else Assert.Equal(BitConverter.SingleToInt32Bits(s), BitConverter.SingleToInt32Bits(v[j]));
            }
        }
    }

    [Fact]
    public void EdgesAreExactOrSaturate()
    {
        Assert.Equal(1f, VectorMath.Exp(0f));
        Assert.Equal(1f, VectorMath.Exp(-0f));
        Assert.Equal(0f, VectorMath.Exp(float.NegativeInfinity));
        Assert.Equal(0f, VectorMath.Exp(-100f));
        Assert.Equal(float.PositiveInfinity, VectorMath.Exp(float.PositiveInfinity));
        Assert.Equal(float.PositiveInfinity, VectorMath.Exp(89f));
        Assert.True(float.IsNaN(VectorMath.Exp(float.NaN)));
        Assert.Equal((float)Math.E, VectorMath.Exp(1f), 6);
    }
}
