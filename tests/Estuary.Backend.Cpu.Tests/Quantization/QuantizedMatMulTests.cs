// Quantized MatMul (INT8 per channel, INT4 groups) vs its scalar twin, decode vs panel regimes bit-identical, thread invariance, errors.
using Estuary.Backend.Cpu;
using Estuary.Backend.Cpu.Kernels.Reference;
using Estuary.Tensors.Quantization;

namespace Estuary.BackendCpu.Tests.Quantization;

public sealed class QuantizedMatMulTests : IDisposable
{
    private readonly CpuBackend _cpu = new(3);

    public void Dispose() => _cpu.Dispose();

    /// <summary>A weight with random integers, scales (F16-valued) and zero points.</summary>
    internal static QuantizedWeight RandomWeight(QuantScheme scheme, int n, int k, int groupSize, int seed)
    {
        var rng = new Random(seed);
        var w = new QuantizedWeight("test", scheme, n, k, groupSize);
        int groups = w.NumGroups;
        for (int r = 0; r < n; r++)
        {
            if (scheme == QuantScheme.Int8PerChannel)
            {
                var q = new sbyte[k];
                for (int i = 0; i < k; i++) q[i] = (sbyte)rng.Next(-127, 128);
                w.SetRowInt8(r, q, (float)(Half)(0.001f + rng.NextSingle() * 0.01f));
            }
            else
            {
                var q = new byte[k];
                for (int i = 0; i < k; i++) q[i] = (byte)rng.Next(16);
                var s = new float[groups];
                var z = new byte[groups];
                for (int g = 0; g < groups; g++) { s[g] = (float)(Half)(0.01f + rng.NextSingle() * 0.05f); z[g] = (byte)rng.Next(16); }
                w.SetRowInt4(r, q, s, z);
            }
        }
        return w;
    }

    public static TheoryData<QuantScheme, int, int, int, int> Shapes()
    {
        var data = new TheoryData<QuantScheme, int, int, int, int>();
        foreach (var scheme in new[] { QuantScheme.Int8PerChannel, QuantScheme.Int4Group })
        {
            foreach (var (t, n, k, g) in new[] { (1, 1, 16, 16), (1, 7, 32, 16), (2, 8, 128, 32), (3, 37, 256, 128), (4, 64, 64, 64), (5, 13, 96, 32), (20, 70, 256, 128), (300, 9, 128, 128) })
                data.Add(scheme, t, n, k, g);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void MatchesScalarReference(QuantScheme scheme, int tokens, int n, int k, int groupSize)
    {
        var w = RandomWeight(scheme, n, k, groupSize, n * 31 + k);
        var x = TestData.Random(tokens * k, 3 + tokens + n);
        var expected = new float[tokens * n];
        QuantizedMatMulReference.Run(x, tokens, w, expected);
        var y = _cpu.Allocate(tokens, n);
        _cpu.MatMul(TestData.Upload(_cpu, x, tokens, k), w, y);
        var actual = TestData.Download(_cpu, y);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-6f * k, $"{scheme} T={tokens} N={n} K={k} [{i}]: {expected[i]} vs {actual[i]}");
    }

    [Theory]
    [InlineData(QuantScheme.Int8PerChannel)]
    [InlineData(QuantScheme.Int4Group)]
    public void RowsAreBitIdenticalWhateverTheBatchAndThreads(QuantScheme scheme)
    {
        // Decode (registers) and prefill (dequantized panel) regimes, 1 or 3 threads: every row must come out the same bits.
        const int n = 45, k = 256, tokens = 40;
        var w = RandomWeight(scheme, n, k, 64, 5);
        var x = TestData.Random(tokens * k, 11);
        var all = _cpu.Allocate(tokens, n);
        _cpu.MatMul(TestData.Upload(_cpu, x, tokens, k), w, all);
        var batched = TestData.Download(_cpu, all);
        using var single = new CpuBackend(1);
        for (int t = 0; t < tokens; t += 7)
        {
            var y1 = single.Allocate(1, n);
            single.MatMul(TestData.Upload(single, x[(t * k)..((t + 1) * k)], 1, k), w, y1);
            Assert.Equal(batched.AsSpan(t * n, n).ToArray(), TestData.Download(single, y1));
        }
    }

    [Fact]
    public void ShapeMismatchIsRejected()
    {
        var w = RandomWeight(QuantScheme.Int4Group, 8, 32, 16, 1);
        var ex = Assert.Throws<ArgumentException>(() => _cpu.MatMul(_cpu.Allocate(1, 16), w, _cpu.Allocate(1, 8)));
        Assert.Contains("test", ex.Message);
        Assert.Throws<ArgumentException>(() => new QuantizedWeight("bad", QuantScheme.Int4Group, 4, 40, 20));
    }

    [Fact]
    public void PackedBytesAreAQuarterOrHalfOfBf16()
    {
        var w4 = RandomWeight(QuantScheme.Int4Group, 64, 1024, 128, 2);
        var w8 = RandomWeight(QuantScheme.Int8PerChannel, 64, 1024, 1024, 2);
        long bf16 = 64 * 1024 * 2;
        Assert.InRange(w4.ByteLength, bf16 / 4, bf16 / 4 * 1.15);
        Assert.InRange(w8.ByteLength, bf16 / 2, bf16 / 2 * 1.01);
    }
}
