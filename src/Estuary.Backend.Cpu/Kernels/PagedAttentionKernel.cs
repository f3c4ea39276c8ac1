// Causal attention over a paged F32 KV cache [NumBlocks, B, Hkv, D], with optional ALiBi, for the query rows of one sequence and
// one KV head (all query heads of its GQA group). The keys the rows need are first gathered into a transposed panel kT[D, L]
// (L rounded up to 64), so a score for 64 keys at once is D broadcast-FMAs into 4 vectors — no horizontal sums; values are
// accumulated with the output row held in registers.
// Invariant (batch invariance): a row's output depends only on its query, its position and the cache — score(j) is one FMA chain
// over d in order, then ·scale + slope·j; the softmax and the value sums run in fixed orders over keys 0..pos — whatever the
// other rows, heads, sequences, threads or vector width (the scalar path computes the same chains).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Paged attention kernels; the backend parallelises over (sequence, KV head, row tile).</summary>
internal static unsafe class PagedAttentionKernel
{
    /// <summary>Keys per score tile (4 vectors of 16).</summary>
    public const int KeyTile = 64;

    /// <summary>Panel columns for <paramref name="keys"/> keys.</summary>
    public static int PaddedKeys(int keys) => (keys + KeyTile - 1) / KeyTile * KeyTile;

    /// <summary>
    /// kT[d, j] = K[slot(j), head, d] for keys j &lt; <paramref name="keys"/>, zero for j up to the padded width; slot(j) from the
    /// block table. <paramref name="kT"/> holds D · PaddedKeys(keys) floats.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GatherKeysTransposed(float* kCache, ReadOnlySpan<int> blockTable, int blockSize, int headOffset, int slotStride,
        int d, int keys, float* kT)
    {
        int l = PaddedKeys(keys);
        float** rows = stackalloc float*[16];
        for (int j0 = 0; j0 < l; j0 += 16)
        {
            // 16 keys at a time: reads 16 rows of D (L1-resident), writes D runs of 16 contiguous floats.
            int count = Math.Max(0, Math.Min(16, keys - j0));
            for (int i = 0; i < count; i++)
            {
                int j = j0 + i;
                nint slot = (nint)blockTable[j / blockSize] * blockSize + j % blockSize;
                rows[i] = kCache + slot * slotStride + headOffset;
            }
            for (int c = 0; c < d; c++)
            {
                float* dst = kT + (nint)c * l + j0;
                int i = 0;
                for (; i < count; i++) dst[i] = rows[i][c];
                for (; i < 16; i++) dst[i] = 0f;
            }
        }
    }

    /// <summary>
    /// o[D] = softmax_j(q·k_j·scale + slope·j) · v_j over keys j = 0..pos, the keys read from the transposed panel
    /// (<paramref name="l"/> columns) and the values from the paged cache.
    /// </summary>
    /// <param name="scores">Scratch, at least PaddedKeys(pos + 1) floats.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Attend(float* q, float* kT, int l, float* vCache, ReadOnlySpan<int> blockTable, int blockSize, int headOffset,
        int slotStride, int d, int pos, float scale, float slope, float* scores, float* o, bool simd)
    {
        int n = pos + 1;
        Scores(q, kT, l, d, n, scores, simd);
        for (int j = 0; j < n; j++) scores[j] = scores[j] * scale + slope * j;
        float max = VectorMath.Max(ref *scores, n, simd);
        float sum = VectorMath.ExpShiftSum(ref *scores, n, max, simd);
        Values(scores, n, vCache, blockTable, blockSize, headOffset, slotStride, d, o, simd);
        VectorMath.Scale(ref *o, 1f / sum, d, simd);
    }

    // s[j] = Σ_d q[d]·kT[d, j] for j < n rounded up to 64, each an in-order FMA chain over d from +0.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores(float* q, float* kT, int l, int d, int n, float* s, bool simd)
    {
        int tiles = (n + KeyTile - 1) / KeyTile;
        if (simd && Vector512.IsHardwareAccelerated)
        {
            for (int t = 0; t < tiles; t++)
            {
                float* k = kT + t * KeyTile;
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int c = 0; c < d; c++, k += l)
                {
                    // Hot spot: one broadcast query element × 64 keys.
                    var qc = Vector512.Create(q[c]);
                    a0 = Vector512.FusedMultiplyAdd(qc, Vector512.Load(k), a0);
                    a1 = Vector512.FusedMultiplyAdd(qc, Vector512.Load(k + 16), a1);
                    a2 = Vector512.FusedMultiplyAdd(qc, Vector512.Load(k + 32), a2);
                    a3 = Vector512.FusedMultiplyAdd(qc, Vector512.Load(k + 48), a3);
                }
                float* st = s + t * KeyTile;
                a0.Store(st); a1.Store(st + 16); a2.Store(st + 32); a3.Store(st + 48);
            }
            return;
        }
        if (simd)
        {
            for (int t = 0; t < 2 * tiles; t++)
            {
                float* k = kT + t * (KeyTile / 2);
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int c = 0; c < d; c++, k += l)
                {
                    var qc = Vector256.Create(q[c]);
                    a0 = Vector256.FusedMultiplyAdd(qc, Vector256.Load(k), a0);
                    a1 = Vector256.FusedMultiplyAdd(qc, Vector256.Load(k + 8), a1);
                    a2 = Vector256.FusedMultiplyAdd(qc, Vector256.Load(k + 16), a2);
                    a3 = Vector256.FusedMultiplyAdd(qc, Vector256.Load(k + 24), a3);
                }
                float* st = s + t * (KeyTile / 2);
                a0.Store(st); a1.Store(st + 8); a2.Store(st + 16); a3.Store(st + 24);
            }
            return;
        }
        for (int j = 0; j < tiles * KeyTile; j++)
        {
            float acc = 0f;
            for (int c = 0; c < d; c++) acc = MathF.FusedMultiplyAdd(q[c], kT[(nint)c * l + j], acc);
            s[j] = acc;
        }
    }

    // o[c] = Σ_j p_j·v_j[c]: even keys into one accumulator, odd keys into another (each an in-order FMA chain from +0), then
    // o = even + odd. Two chains per element keep the FMA pipes busy when D is only a few vectors.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Values(float* p, int n, float* vCache, ReadOnlySpan<int> blockTable, int blockSize, int headOffset, int slotStride,
        int d, float* o, bool simd)
    {
        var keys = new KeyCursor(vCache, blockTable, blockSize, headOffset, slotStride);
        if (simd && Vector512.IsHardwareAccelerated && d == 64)
        {
            Vector512<float> e0 = default, e1 = default, e2 = default, e3 = default, f0 = default, f1 = default, f2 = default, f3 = default;
            int j = 0;
            for (; j + 1 < n; j += 2)
            {
                float* v = keys.Next();
                float* w = keys.Next();
                var pj = Vector512.Create(p[j]);
                var pk = Vector512.Create(p[j + 1]);
                e0 = Vector512.FusedMultiplyAdd(pj, Vector512.Load(v), e0); e1 = Vector512.FusedMultiplyAdd(pj, Vector512.Load(v + 16), e1);
                e2 = Vector512.FusedMultiplyAdd(pj, Vector512.Load(v + 32), e2); e3 = Vector512.FusedMultiplyAdd(pj, Vector512.Load(v + 48), e3);
                f0 = Vector512.FusedMultiplyAdd(pk, Vector512.Load(w), f0); f1 = Vector512.FusedMultiplyAdd(pk, Vector512.Load(w + 16), f1);
                f2 = Vector512.FusedMultiplyAdd(pk, Vector512.Load(w + 32), f2); f3 = Vector512.FusedMultiplyAdd(pk, Vector512.Load(w + 48), f3);
            }
            if (j < n)
            {
                float* v = keys.Next();
                var pj = Vector512.Create(p[j]);
                e0 = Vector512.FusedMultiplyAdd(pj, Vector512.Load(v), e0); e1 = Vector512.FusedMultiplyAdd(pj, Vector512.Load(v + 16), e1);
                e2 = Vector512.FusedMultiplyAdd(pj, Vector512.Load(v + 32), e2); e3 = Vector512.FusedMultiplyAdd(pj, Vector512.Load(v + 48), e3);
            }
            (e0 + f0).Store(o); (e1 + f1).Store(o + 16); (e2 + f2).Store(o + 32); (e3 + f3).Store(o + 48);
            return;
        }
        // Any D: the same two chains per element, a vector (or one element) at a time through memory.
        float* odd = stackalloc float[d];
        new Span<float>(o, d).Clear();
        new Span<float>(odd, d).Clear();
        for (int j = 0; j < n; j++)
            VectorMath.Axpy(p[j], ref *keys.Next(), ref *((j & 1) == 0 ? o : odd), d, simd);
        for (int c = 0; c < d; c++) o[c] += odd[c];
    }

    /// <summary>Walks a sequence's cache rows (one head) in key order through its block table, without a division per key.</summary>
    private ref struct KeyCursor
    {
        private readonly float* _cache;
        private readonly ReadOnlySpan<int> _table;
        private readonly int _blockSize, _headOffset, _slotStride;
        private int _block, _slot;

        public KeyCursor(float* cache, ReadOnlySpan<int> blockTable, int blockSize, int headOffset, int slotStride)
        {
            _cache = cache; _table = blockTable; _blockSize = blockSize; _headOffset = headOffset; _slotStride = slotStride;
            _slot = blockSize;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float* Next()
        {
            if (_slot == _blockSize)
            {
                _slot = 0;
                _block++;
            }
            return _cache + ((nint)_table[_block - 1] * _blockSize + _slot++) * _slotStride + _headOffset;
        }
    }
}
