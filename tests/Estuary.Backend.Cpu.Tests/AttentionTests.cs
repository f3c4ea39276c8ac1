// PagedAttention and WriteKv: a hand-built case vs dense causal attention, random mixed batches vs the scalar twin, invariances, errors.
using Estuary.Backend.Cpu;
using Estuary.Backend.Cpu.Kernels.Reference;
using Estuary.Tensors;

namespace Estuary.BackendCpu.Tests;

public sealed class AttentionTests : IDisposable
{
    private readonly CpuBackend _cpu = new(2);

    public void Dispose() => _cpu.Dispose();

    /// <summary>
    /// Two sequences, block size 4, blocks scattered non-contiguously, GQA 4:2, ALiBi: sequence 0 prefills 6 tokens in one step;
    /// sequence 1 first prefills 9 tokens, then decodes position 9 in a step mixed with sequence 0's prefill.
    /// Compared with dense causal attention computed here from the unpaged K/V.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MatchesDenseCausalAttention(bool alibi)
    {
        const int hq = 4, hkv = 2, d = 8, bs = 4;
        float[]? slopes = alibi ? [0.5f, 0.25f, 0.125f, 0.0625f] : null;
        var p = new AttentionParams(hq, hkv, d, 1f / MathF.Sqrt(d), slopes);
        using var cache = _cpu.AllocateKvCache(new KvCacheSpec(NumLayers: 2, NumBlocks: 8, BlockSize: bs, NumKvHeads: hkv, HeadDim: d));
        var kv = new KvLayer(cache, 1);
        int[][] tables = [[5, 2], [7, 0, 3]];
        int[] lens = [6, 10];
        // Dense per-sequence K, V [len, Hkv, D] and Q [len, Hq, D].
        var k = lens.Select((n, s) => TestData.Random(n * hkv * d, 10 + s)).ToArray();
        var v = lens.Select((n, s) => TestData.Random(n * hkv * d, 20 + s)).ToArray();
        var q = lens.Select((n, s) => TestData.Random(n * hq * d, 30 + s, 2f)).ToArray();

        // Step 1: sequence 1's first 9 tokens (positions 0..8) go to the cache.
        var pre = Batch([(1, 0, 9)], tables, lens, bs);
        _cpu.WriteKv(Rows(k[1], 0, 9, hkv * d), Rows(v[1], 0, 9, hkv * d), kv, pre);

        // Step 2: sequence 0 prefill (positions 0..5) + sequence 1 decode (position 9), in one call.
        var b = Batch([(0, 0, 6), (1, 9, 1)], tables, lens, bs);
        var kStep = Concat(k[0], 0, 6, k[1], 9, 1, hkv * d);
        var vStep = Concat(v[0], 0, 6, v[1], 9, 1, hkv * d);
        var qStep = Concat(q[0], 0, 6, q[1], 9, 1, hq * d);
        _cpu.WriteKv(TestData.Upload(_cpu, kStep, 7, hkv * d), TestData.Upload(_cpu, vStep, 7, hkv * d), kv, b);
        var o = _cpu.Allocate(7, hq * d);
        _cpu.PagedAttention(TestData.Upload(_cpu, qStep, 7, hq * d), kv, b, p, o);
        var got = TestData.Download(_cpu, o);

        var expected = new float[7 * hq * d];
        (int seq, int pos)[] rows = [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4), (0, 5), (1, 9)];
        for (int r = 0; r < rows.Length; r++)
        {
            var (s, pos) = rows[r];
            for (int h = 0; h < hq; h++)
                Dense(q[s].AsSpan((pos * hq + h) * d, d), k[s], v[s], h / 2, hkv, d, pos, p.Scale, slopes?[h] ?? 0, expected.AsSpan((r * hq + h) * d, d));
        }
        TestData.AssertClose(expected, got, 2e-5f, 1e-2f, "attention vs dense");
        // The first row attends only to itself: its output is exactly its own value row.
        for (int h = 0; h < hq; h++)
            TestData.AssertClose(v[0].AsSpan(h / 2 * d, d), got.AsSpan(h * d, d), 1e-6f, 1e-3f, "row 0 = v0");
    }

    [Theory]
    [InlineData(8, 8, 16, 16, false, DType.F32)]
    [InlineData(6, 2, 12, 5, true, DType.F32)]
    [InlineData(4, 1, 19, 3, true, DType.F32)]
    [InlineData(8, 2, 64, 16, true, DType.F32)]  // D = 64: values summed in registers
    [InlineData(4, 4, 64, 8, false, DType.F32)]
    [InlineData(8, 8, 64, 32, false, DType.F32)] // two key units per block
    [InlineData(8, 2, 64, 16, true, DType.BF16)]
    [InlineData(4, 4, 64, 32, false, DType.BF16)]
    [InlineData(6, 2, 12, 5, true, DType.BF16)]  // gathered keys, values through the any-D path
    [InlineData(8, 2, 64, 16, false, DType.F16)]
    [InlineData(4, 1, 19, 3, true, DType.F16)]
    [InlineData(4, 4, 128, 16, true, DType.F32)]  // D = 128: values through the any-D path
    [InlineData(6, 3, 80, 32, false, DType.BF16)] // D = 80, two key units per block
    [InlineData(8, 2, 64, 16, true, DType.I8)]
    [InlineData(4, 4, 64, 32, false, DType.I8)]
    [InlineData(6, 2, 12, 5, true, DType.I8)]     // gathered keys, values through the any-D path
    [InlineData(6, 3, 80, 32, false, DType.I8)]
    public void RandomMixedBatchMatchesReference(int hq, int hkv, int d, int bs, bool alibi, DType dtype) =>
        RandomMixedBatch(hq, hkv, d, bs, alibi, dtype, window: 0);

    /// <summary>
    /// Sliding windows (Mistral, Qwen2/3 sliding layers): keys before pos − W + 1 get no weight. Windows of 1 (a row sees only its
    /// own key), shorter than a prefill chunk, across a 64-key score tile, and longer than every sequence (the same as none).
    /// </summary>
    [Theory]
    [InlineData(8, 2, 64, 16, false, DType.F32, 1)]
    [InlineData(8, 2, 64, 16, false, DType.BF16, 5)]
    [InlineData(6, 2, 12, 5, true, DType.F32, 33)]  // gathered keys, ALiBi on top of the window
    [InlineData(4, 4, 128, 16, false, DType.I8, 20)] // I8 cache: per-key scales before the mask
    [InlineData(4, 1, 19, 3, false, DType.F16, 1000)]
    public void SlidingWindowMatchesReference(int hq, int hkv, int d, int bs, bool alibi, DType dtype, int window) =>
        RandomMixedBatch(hq, hkv, d, bs, alibi, dtype, window);

    private void RandomMixedBatch(int hq, int hkv, int d, int bs, bool alibi, DType dtype, int window)
    {
        var rng = new Random(hq * 100 + d);
        int numBlocks = 128, maxBlocks = 32;
        float[]? slopes = alibi ? Enumerable.Range(0, hq).Select(h => MathF.Pow(2, -(h + 1))).ToArray() : null;
        var p = new AttentionParams(hq, hkv, d, 1f / MathF.Sqrt(d), slopes, window);
        using var cache = (CpuKvCacheStorage)_cpu.AllocateKvCache(new KvCacheSpec(1, numBlocks, bs, hkv, d, dtype));
        // Fill the whole cache with random keys/values so every slot read is defined (rounded to the cache's dtype).
        int elements = numBlocks * bs * hkv * d;
        // Values are drawn in a fixed (block, head, element, offset) order and placed through KeyIndex/ValueIndex, so the test data
        // do not depend on the cache layout.
        var kDrawn = TestData.Random(elements, 1);
        var vDrawn = TestData.Random(elements, 2);
        var kFill = new float[elements];
        var vFill = new float[elements];
        for (int slot = 0; slot < numBlocks * bs; slot++)
        {
            for (int h = 0; h < hkv; h++)
            {
                for (int c = 0; c < d; c++)
                {
                    int block = slot / bs, offset = slot % bs;
                    kFill[CpuKvCacheStorage.KeyIndex(cache.Spec, slot, h, c)] = kDrawn[((block * hkv + h) * d + c) * bs + offset];
                    vFill[CpuKvCacheStorage.ValueIndex(cache.Spec, slot, h, c)] = vDrawn[((block * hkv + h) * bs + offset) * d + c];
                }
            }
        }
        cache.Fill(0, kFill, vFill);
        // Sequences: prefill chunk at an offset, two decodes, a fresh prefill; block ids a random permutation.
        // 40 rows span two 32-row tiles; position 70 reaches a second 64-key score tile.
        (int start, int count)[] seqs = [(7, 9), (30, 1), (0, 40), (70, 1)];
        var perm = Enumerable.Range(0, numBlocks).OrderBy(_ => rng.Next()).ToArray();
        int tokens = seqs.Sum(s => s.count);
        var b = new ForwardBatch(tokens, seqs.Length, maxBlocks, bs) { NumSeqs = seqs.Length, NumTokens = tokens };
        int row = 0, next = 0;
        for (int s = 0; s < seqs.Length; s++)
        {
            b.QueryStarts[s] = row;
            int len = seqs[s].start + seqs[s].count;
            b.SeqLens[s] = len;
            for (int i = 0; i < (len + bs - 1) / bs; i++) b.BlockTables[s * maxBlocks + i] = perm[next++];
            for (int i = 0; i < seqs[s].count; i++) b.Positions[row++] = seqs[s].start + i;
        }
        b.QueryStarts[seqs.Length] = row;
        var q = TestData.Random(tokens * hq * d, 3, 3f);
        var expected = new float[q.Length];
        // The reference reads the stored (rounded) elements widened, so only the kernel's F32 arithmetic is under test.
        PagedAttentionReference.Run(q, cache.ReadKeys(0), cache.ReadValues(0), b, p, expected);
        var o = _cpu.Allocate(tokens, hq * d);
        _cpu.PagedAttention(TestData.Upload(_cpu, q, tokens, hq * d), new KvLayer(cache, 0), b, p, o);
        // F32 scores are D-term sums against a double reference: the absolute floor grows with D (8e-7 at D = 64).
        TestData.AssertClose(expected, TestData.Download(_cpu, o), 2e-5f, 1e-2f * Math.Max(1, d / 16f), "attention vs reference");

        // Batch invariance: each row alone (as a one-token "sequence" with the same table) gives identical bits.
        var all = TestData.Download(_cpu, o);
        using var one = new CpuBackend(1);
        for (int s = 0, r = 0; s < seqs.Length; s++)
        {
            for (int i = 0; i < seqs[s].count; i++, r++)
            {
                var b1 = new ForwardBatch(1, 1, maxBlocks, bs) { NumSeqs = 1, NumTokens = 1 };
                b1.QueryStarts[1] = 1;
                b1.Positions[0] = b.Positions[r];
                b.BlockTable(s).CopyTo(b1.BlockTables);
                var o1 = one.Allocate(1, hq * d);
                one.PagedAttention(TestData.Upload(one, q.AsSpan(r * hq * d, hq * d).ToArray(), 1, hq * d), new KvLayer(cache, 0), b1, p, o1);
                var got = TestData.Download(one, o1);
                for (int j = 0; j < got.Length; j++)
                    Assert.Equal(BitConverter.SingleToInt32Bits(all[r * hq * d + j]), BitConverter.SingleToInt32Bits(got[j]));
            }
        }
    }

    [Theory]
    [InlineData(DType.BF16)]
    [InlineData(DType.F16)]
    public void WriteKvRoundsToNearestEvenIn16BitCaches(DType dtype)
    {
        using var cache = (CpuKvCacheStorage)_cpu.AllocateKvCache(new KvCacheSpec(1, 2, 16, 1, 4, dtype));
        var b = new ForwardBatch(1, 1, 2, 16);
        b.SlotMapping[0] = 17; // block 1, offset 1
        // BF16 keeps 8 significant bits: 1 + 2^-8 is a tie → 1 (even); 1 + 3·2^-8 is a tie → 1 + 2^-6 (even); F16 keeps 11.
        float[] row = [1f + MathF.Pow(2, -8), 1f + 3 * MathF.Pow(2, -8), -2.5f, 1f + MathF.Pow(2, -11)];
        float[] bf16 = [1f, 1f + MathF.Pow(2, -6), -2.5f, 1f];
        float[] f16 = [1f + MathF.Pow(2, -8), 1f + 3 * MathF.Pow(2, -8), -2.5f, 1f]; // 1 + 2^-11 is an F16 tie → 1
        var expected = dtype == DType.BF16 ? bf16 : f16;
        _cpu.WriteKv(TestData.Upload(_cpu, row, 1, 4), TestData.Upload(_cpu, row.Select(x => -x).ToArray(), 1, 4), new KvLayer(cache, 0), b);
        float[] keys = cache.ReadKeys(0), values = cache.ReadValues(0);
        for (int d = 0; d < 4; d++)
        {
            Assert.Equal(expected[d], keys[CpuKvCacheStorage.KeyIndex(cache.Spec, 17, 0, d)]);
            Assert.Equal(-expected[d], values[CpuKvCacheStorage.ValueIndex(cache.Spec, 17, 0, d)]);
        }
        Assert.Equal(8, keys.Count(x => x != 0) + values.Count(x => x != 0)); // nothing else written
        Assert.Throws<InvalidOperationException>(() => cache.Keys(0));     // no F32 view of a 16-bit cache
    }

    [Fact]
    public void WriteKvQuantizesEachHeadVectorOfAnInt8Cache()
    {
        const int hkv = 3, d = 40, bs = 16, tokens = 21;
        using var cache = (CpuKvCacheStorage)_cpu.AllocateKvCache(new KvCacheSpec(1, 4, bs, hkv, d, DType.I8));
        var b = new ForwardBatch(tokens, 1, 4, bs);
        for (int t = 0; t < tokens; t++) b.SlotMapping[t] = t == 4 ? -1 : bs + t; // from block 1 on; row 4 is padding
        int width = hkv * d;
        var k = TestData.Random(tokens * width, 21, 4f);
        var v = TestData.Random(tokens * width, 22, 0.01f);
        for (int j = 0; j < d; j++) k[2 * width + d + j] = 0f;  // an all-zero vector: scale 0, q 0
        k[3 * width + 5] = float.NaN;                           // a NaN poisons its vector's scale, as it would a float cache's scores
        _cpu.WriteKv(TestData.Upload(_cpu, k, tokens, width), TestData.Upload(_cpu, v, tokens, width), new KvLayer(cache, 0), b);
        var q8 = (sbyte[])cache.KeyArray(0);
        float[] ks = cache.KeyScales(0)!, vs = cache.ValueScales(0)!, keys = cache.ReadKeys(0), values = cache.ReadValues(0);
        for (int t = 0; t < tokens; t++)
        {
            int slot = b.SlotMapping[t];
            if (slot < 0) continue;
            for (int h = 0; h < hkv; h++)
            {
                long at = CpuKvCacheStorage.ScaleIndex(cache.Spec, slot, h);
                var kx = k.AsSpan(t * width + h * d, d).ToArray();
                var vx = v.AsSpan(t * width + h * d, d).ToArray();
                if (t == 3 && h == 0) { Assert.True(float.IsNaN(ks[at])); continue; }
                Assert.Equal(kx.Max(MathF.Abs) / 127f, ks[at]);
                Assert.Equal(vx.Max(MathF.Abs) / 127f, vs[at]);
                for (int j = 0; j < d; j++)
                {
                    // Dequantized within half a step of the written value; the largest element exactly ±127 steps.
                    Assert.InRange(keys[CpuKvCacheStorage.KeyIndex(cache.Spec, slot, h, j)] - kx[j], -ks[at] * 0.5001f, ks[at] * 0.5001f);
                    Assert.InRange(values[CpuKvCacheStorage.ValueIndex(cache.Spec, slot, h, j)] - vx[j], -vs[at] * 0.5001f, vs[at] * 0.5001f);
                }
                int top = Array.IndexOf(kx, kx.MaxBy(MathF.Abs));
                Assert.Equal(Math.Sign(kx[top]) * 127, q8[CpuKvCacheStorage.KeyIndex(cache.Spec, slot, h, top)]);
            }
        }
        Assert.Equal(0f, ks[CpuKvCacheStorage.ScaleIndex(cache.Spec, bs + 2, 1)]);
        Assert.Equal(0f, ks[CpuKvCacheStorage.ScaleIndex(cache.Spec, bs + 4, 0)]); // the padding row's slot was not written
        for (int slot = 0; slot < bs; slot++)                                      // nor was block 0
            for (int h = 0; h < hkv; h++)
                for (int j = 0; j < d; j++) Assert.Equal(0, q8[CpuKvCacheStorage.KeyIndex(cache.Spec, slot, h, j)]);
    }

    [Theory]
    [InlineData(DType.BF16, 40)] // D = 40: two 16-lane runs and an 8-element tail per head
    [InlineData(DType.BF16, 64)]
    [InlineData(DType.F16, 40)]
    public void WriteKvStoresEveryElementAsNarrowDoes(DType dtype, int d)
    {
        const int hkv = 3, bs = 16, tokens = 101; // several row chunks, written by both threads
        using var cache = (CpuKvCacheStorage)_cpu.AllocateKvCache(new KvCacheSpec(1, 10, bs, hkv, d, dtype));
        var b = new ForwardBatch(tokens, 1, 10, bs);
        for (int t = 0; t < tokens; t++) b.SlotMapping[t] = t == 5 ? -1 : 2 * bs + t; // from block 2 on; row 5 is padding
        int width = hkv * d;
        var k = TestData.Random(tokens * width, 11, 4f);
        var v = TestData.Random(tokens * width, 12, 4f);
        // Specials: NaNs (with payload and sign), infinities, the largest finite float (rounds to Inf in BF16), ties, subnormals.
        float[] specials = [float.NaN, -float.NaN, BitConverter.UInt32BitsToSingle(0x7F800001), float.PositiveInfinity, float.NegativeInfinity,
            float.MaxValue, -float.MaxValue, 1f + MathF.Pow(2, -8), 1f + 3 * MathF.Pow(2, -8), 1e-40f, -1e-45f, 0f, -0f, 65520f];
        for (int i = 0; i < specials.Length; i++) { k[7 * i + 3] = specials[i]; v[11 * i + 5] = specials[i]; }
        _cpu.WriteKv(TestData.Upload(_cpu, k, tokens, width), TestData.Upload(_cpu, v, tokens, width), new KvLayer(cache, 0), b);
        var keys = (ushort[])cache.KeyArray(0);
        var values = (ushort[])cache.ValueArray(0);
        var writtenK = new bool[keys.Length];
        var writtenV = new bool[values.Length];
        for (int t = 0; t < tokens; t++)
        {
            if (b.SlotMapping[t] < 0) continue;
            for (int h = 0; h < hkv; h++)
            {
                for (int j = 0; j < d; j++)
                {
                    long ki = CpuKvCacheStorage.KeyIndex(cache.Spec, b.SlotMapping[t], h, j), vi = CpuKvCacheStorage.ValueIndex(cache.Spec, b.SlotMapping[t], h, j);
                    Assert.Equal(CpuKvCacheStorage.Narrow(k[t * width + h * d + j], dtype), keys[ki]);
                    Assert.Equal(CpuKvCacheStorage.Narrow(v[t * width + h * d + j], dtype), values[vi]);
                    writtenK[ki] = writtenV[vi] = true;
                }
            }
        }
        for (int i = 0; i < keys.Length; i++)
        {
            if (!writtenK[i]) Assert.True(keys[i] == 0, $"key element {i} written by no row");
            if (!writtenV[i]) Assert.True(values[i] == 0, $"value element {i} written by no row");
        }
    }

    [Fact]
    public void WriteKvLaysOutBlocksHeadMajor()
    {
        // 2 blocks of B = 4, Hkv = 2, D = 3. K [NumBlocks, Hkv, D, B], V [NumBlocks, Hkv, B, D]; slot 6 = block 1, offset 2.
        using var cache = (CpuKvCacheStorage)_cpu.AllocateKvCache(new KvCacheSpec(1, 2, 4, 2, 3));
        var b = new ForwardBatch(1, 1, 2, 4);
        b.SlotMapping[0] = 6;
        _cpu.WriteKv(TestData.Upload(_cpu, [1, 2, 3, 4, 5, 6], 1, 6), TestData.Upload(_cpu, [-1, -2, -3, -4, -5, -6], 1, 6), new KvLayer(cache, 0), b);
        var keys = cache.Keys(0);
        var values = cache.Values(0);
        for (int h = 0; h < 2; h++)
        {
            for (int d = 0; d < 3; d++)
            {
                float x = h * 3 + d + 1;
                // Head-major: K [Hkv = 2, NumBlocks = 2, D = 3, B = 4], V [Hkv, NumBlocks, B, D]; slot 6 = block 1, offset 2.
                Assert.Equal(x, keys[((h * 2 + 1) * 3 + d) * 4 + 2]);
                Assert.Equal(-x, values[((h * 2 + 1) * 4 + 2) * 3 + d]);
                Assert.Equal(((h * 2 + 1) * 3 + d) * 4 + 2, CpuKvCacheStorage.KeyIndex(cache.Spec, 6, h, d));
                Assert.Equal(((h * 2 + 1) * 4 + 2) * 3 + d, CpuKvCacheStorage.ValueIndex(cache.Spec, 6, h, d));
            }
        }
        Assert.Equal(6, keys.Count(x => x != 0));
        Assert.Equal(6, values.Count(x => x != 0));
    }

    [Fact]
    public void WriteKvSkipsNegativeSlotsAndRejectsOutOfRange()
    {
        using var cache = (CpuKvCacheStorage)_cpu.AllocateKvCache(new KvCacheSpec(1, 2, 4, 1, 3));
        var b = new ForwardBatch(3, 1, 2, 4);
        b.SlotMapping[0] = 5; b.SlotMapping[1] = -1; b.SlotMapping[2] = 0;
        var k = TestData.Upload(_cpu, [1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 3);
        var v = TestData.Upload(_cpu, [-1, -2, -3, -4, -5, -6, -7, -8, -9], 3, 3);
        _cpu.WriteKv(k, v, new KvLayer(cache, 0), b);
        // V [NumBlocks, Hkv, B, D] with Hkv = 1: slot s's row at s·3. K [NumBlocks, Hkv, D, B]: slot s = (block, offset), element d at
        // block·12 + d·4 + offset.
        var expectedV = new float[24];
        new float[] { -7, -8, -9 }.CopyTo(expectedV, 0);
        new float[] { -1, -2, -3 }.CopyTo(expectedV, 15);
        Assert.Equal(expectedV, cache.Values(0));
        var expectedK = new float[24];
        expectedK[0] = 7; expectedK[4] = 8; expectedK[8] = 9;     // slot 0: block 0, offset 0
        expectedK[13] = 1; expectedK[17] = 2; expectedK[21] = 3;  // slot 5: block 1, offset 1
        Assert.Equal(expectedK, cache.Keys(0));
        for (int d = 0; d < 3; d++)
        {
            Assert.Equal(expectedK[CpuKvCacheStorage.KeyIndex(cache.Spec, 5, 0, d)], d + 1f);
            Assert.Equal(expectedV[CpuKvCacheStorage.ValueIndex(cache.Spec, 5, 0, d)], -(d + 1f));
        }
        // An out-of-range slot in row 1 rejects the whole call before any row is written (row 0 would change slot 5).
        b.SlotMapping[1] = 8;
        var k2 = TestData.Upload(_cpu, [10, 20, 30, 40, 50, 60, 70, 80, 90], 3, 3);
        Assert.Contains("slot 8 of row 1", Assert.Throws<ArgumentOutOfRangeException>(() => _cpu.WriteKv(k2, k2, new KvLayer(cache, 0), b)).Message);
        Assert.Equal(expectedK, cache.Keys(0));
        Assert.Equal(expectedV, cache.Values(0));
    }

    [Fact]
    public void RejectsBadGeometryAndBlockTables()
    {
        using var cache = _cpu.AllocateKvCache(new KvCacheSpec(1, 4, 4, 2, 8));
        var kv = new KvLayer(cache, 0);
        var b = new ForwardBatch(1, 1, 2, 4) { NumSeqs = 1, NumTokens = 1 };
        b.QueryStarts[1] = 1;
        b.Positions[0] = 5; // needs blocks 0 and 1
        b.BlockTables[0] = 1; b.BlockTables[1] = 4; // 4 is outside the cache
        var q = _cpu.Allocate(1, 32);
        var o = _cpu.Allocate(1, 32);
        var ok = new AttentionParams(4, 2, 8, 0.3f);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _cpu.PagedAttention(q, kv, b, ok, o));
        Assert.Contains("block 4", ex.Message);
        b.BlockTables[1] = 3;
        _cpu.PagedAttention(q, kv, b, ok, o);
        b.Positions[0] = 8; // needs a third block; the table holds two
        Assert.Throws<ArgumentOutOfRangeException>(() => _cpu.PagedAttention(q, kv, b, ok, o));
        b.Positions[0] = 1;
        Assert.Throws<ArgumentException>(() => _cpu.PagedAttention(q, kv, b, new AttentionParams(3, 2, 8, 0.3f), o));
        Assert.Throws<ArgumentException>(() => _cpu.PagedAttention(q, kv, b, new AttentionParams(4, 2, 8, 0.3f, [1f]), o));
        Assert.Throws<ArgumentException>(() => _cpu.PagedAttention(q, kv, b, ok, _cpu.Allocate(1, 16)));
    }

    private static void Dense(ReadOnlySpan<float> q, float[] k, float[] v, int kvh, int hkv, int d, int pos, float scale, float slope, Span<float> o)
    {
        var w = new double[pos + 1];
        for (int j = 0; j <= pos; j++)
        {
            double dot = 0;
            for (int i = 0; i < d; i++) dot += q[i] * k[(j * hkv + kvh) * d + i];
            w[j] = dot * scale + slope * j;
        }
        double max = w.Max(), sum = 0;
        for (int j = 0; j <= pos; j++) sum += w[j] = Math.Exp(w[j] - max);
        for (int i = 0; i < d; i++)
        {
            double acc = 0;
            for (int j = 0; j <= pos; j++) acc += w[j] * v[(j * hkv + kvh) * d + i];
            o[i] = (float)(acc / sum);
        }
    }

    private static ForwardBatch Batch((int seq, int start, int count)[] parts, int[][] tables, int[] lens, int bs)
    {
        int tokens = parts.Sum(p => p.count);
        var b = new ForwardBatch(tokens, parts.Length, 4, bs) { NumSeqs = parts.Length, NumTokens = tokens };
        int row = 0;
        for (int i = 0; i < parts.Length; i++)
        {
            var (seq, start, count) = parts[i];
            b.QueryStarts[i] = row;
            b.SeqLens[i] = lens[seq];
            tables[seq].CopyTo(b.BlockTables, i * 4);
            for (int j = 0; j < count; j++, row++)
            {
                int pos = start + j;
                b.Positions[row] = pos;
                b.SlotMapping[row] = tables[seq][pos / bs] * bs + pos % bs;
            }
        }
        b.QueryStarts[parts.Length] = row;
        return b;
    }

    private DeviceTensor Rows(float[] data, int start, int count, int cols) =>
        TestData.Upload(_cpu, data.AsSpan(start * cols, count * cols).ToArray(), count, cols);

    private static float[] Concat(float[] a, int aStart, int aCount, float[] b, int bStart, int bCount, int cols) =>
        [.. a.AsSpan(aStart * cols, aCount * cols), .. b.AsSpan(bStart * cols, bCount * cols)];
}
