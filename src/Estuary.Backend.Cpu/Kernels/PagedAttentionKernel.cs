// Causal attention over a paged F32 KV cache (K [NumBlocks, Hkv, D, B], keys transposed inside each block; V [NumBlocks, B, Hkv, D]),
// with optional ALiBi, for the query rows of one sequence and one KV head (all query heads of its GQA group). Keys are read in units
// of 16: element d of 16 consecutive keys is one contiguous vector in the cache when B is a multiple of 16 (otherwise the keys are
// first gathered into a transposed panel kT[D, L], L rounded up to 64), so a score for 64 keys at once is D broadcast-FMAs into 4
// vectors — no horizontal sums and no copying; values are accumulated with the output row held in registers.
// Invariant (batch invariance): a row's output depends only on its query, its position and the cache — score(j) is one FMA chain
// over d in order, then ·scale + slope·j; the softmax and the value sums run in fixed orders over keys 0..pos — whatever the
// other rows, heads, sequences, threads, block size or vector width (the scalar path computes the same chains).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Paged attention kernels; the backend parallelises over (sequence, KV head, row tile).</summary>
internal static unsafe class PagedAttentionKernel
{
    /// <summary>Keys per unit: one Vector512 (or two Vector256) of scores.</summary>
    public const int KeyUnit = 16;

    /// <summary>Keys per score tile (4 units).</summary>
    public const int KeyTile = 64;

    /// <summary>Keys rounded up to whole score tiles (the scores scratch and panel width).</summary>
    public static int PaddedKeys(int keys) => (keys + KeyTile - 1) / KeyTile * KeyTile;

    /// <summary>Whether keys are read straight from the cache (B a multiple of 16) rather than through a gathered panel.</summary>
    public static bool ReadsCacheDirectly(int blockSize) => blockSize % KeyUnit == 0;

    /// <summary>
    /// units[u] = address of element 0 of keys 16u..16u+15 (head <paramref name="kvHead"/>) in the cache, for u &lt; PaddedKeys(keys)/16
    /// (units past the last key repeat the last one); element d of those keys is at units[u] + d·B. Needs B a multiple of 16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CacheKeyUnits(float* kCache, ReadOnlySpan<int> blockTable, int blockSize, int numKvHeads, int kvHead, int d,
        int keys, float** units)
    {
        int used = (keys + KeyUnit - 1) / KeyUnit, padded = PaddedKeys(keys) / KeyUnit;
        int unitsPerBlock = blockSize / KeyUnit;
        nint headBlock = (nint)d * blockSize; // floats of one head in one block: [D, B]
        for (int u = 0; u < used; u++)
        {
            int block = u / unitsPerBlock, offset = u % unitsPerBlock * KeyUnit;
            units[u] = kCache + ((nint)blockTable[block] * numKvHeads + kvHead) * headBlock + offset;
        }
        for (int u = used; u < padded; u++) units[u] = units[used - 1];
    }

    /// <summary>
    /// kT[d, j] = K[slot(j), head, d] for keys j &lt; <paramref name="keys"/>, zero up to the padded width, and units[u] = kT + 16u
    /// (element d of a unit at + d·PaddedKeys(keys)); for block sizes that are not a multiple of 16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GatherKeyUnits(float* kCache, ReadOnlySpan<int> blockTable, int blockSize, int numKvHeads, int kvHead, int d,
        int keys, float* kT, float** units)
    {
        int l = PaddedKeys(keys);
        nint headBlock = (nint)d * blockSize;
        for (int j = 0; j < l; j++)
        {
            if (j < keys)
            {
                float* k = kCache + ((nint)blockTable[j / blockSize] * numKvHeads + kvHead) * headBlock + j % blockSize;
                for (int c = 0; c < d; c++) kT[(nint)c * l + j] = k[(nint)c * blockSize];
            }
            else
            {
                for (int c = 0; c < d; c++) kT[(nint)c * l + j] = 0f;
            }
        }
        for (int u = 0; u < l / KeyUnit; u++) units[u] = kT + u * KeyUnit;
    }

    /// <summary>
    /// o[D] = softmax_j(q·k_j·scale + slope·j) · v_j over keys j = 0..pos, the keys read through <paramref name="units"/> (element d
    /// of unit u at units[u] + d·<paramref name="stride"/>) and the values from the paged cache.
    /// </summary>
    /// <param name="scores">Scratch, at least PaddedKeys(pos + 1) floats.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Attend(float* q, float** units, nint stride, float* vCache, ReadOnlySpan<int> blockTable, int blockSize,
        int headOffset, int slotStride, int d, int pos, float scale, float slope, float* scores, float* o, bool simd)
    {
        int n = pos + 1;
        Scores(q, units, stride, d, n, scores, simd);
        for (int j = 0; j < n; j++) scores[j] = scores[j] * scale + slope * j;
        float max = VectorMath.Max(ref *scores, n, simd);
        float sum = VectorMath.ExpShiftSum(ref *scores, n, max, simd);
        Values(scores, n, vCache, blockTable, blockSize, headOffset, slotStride, d, o, simd);
        VectorMath.Scale(ref *o, 1f / sum, d, simd);
    }

    // s[j] = Σ_d q[d]·k_j[d] for j < n rounded up to 64, each an in-order FMA chain over d from +0.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores(float* q, float** units, nint stride, int d, int n, float* s, bool simd)
    {
        int tiles = (n + KeyTile - 1) / KeyTile;
        if (simd && Vector512.IsHardwareAccelerated)
        {
            for (int t = 0; t < tiles; t++)
            {
                float* k0 = units[4 * t], k1 = units[4 * t + 1], k2 = units[4 * t + 2], k3 = units[4 * t + 3];
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (nint c = 0, at = 0; c < d; c++, at += stride)
                {
                    // Hot spot: one broadcast query element × 64 keys (4 cache lines when read from the cache).
                    var qc = Vector512.Create(q[c]);
                    a0 = Vector512.FusedMultiplyAdd(qc, Vector512.Load(k0 + at), a0);
                    a1 = Vector512.FusedMultiplyAdd(qc, Vector512.Load(k1 + at), a1);
                    a2 = Vector512.FusedMultiplyAdd(qc, Vector512.Load(k2 + at), a2);
                    a3 = Vector512.FusedMultiplyAdd(qc, Vector512.Load(k3 + at), a3);
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
                float* k0 = units[2 * t], k1 = units[2 * t + 1];
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (nint c = 0, at = 0; c < d; c++, at += stride)
                {
                    var qc = Vector256.Create(q[c]);
                    a0 = Vector256.FusedMultiplyAdd(qc, Vector256.Load(k0 + at), a0);
                    a1 = Vector256.FusedMultiplyAdd(qc, Vector256.Load(k0 + at + 8), a1);
                    a2 = Vector256.FusedMultiplyAdd(qc, Vector256.Load(k1 + at), a2);
                    a3 = Vector256.FusedMultiplyAdd(qc, Vector256.Load(k1 + at + 8), a3);
                }
                float* st = s + t * (KeyTile / 2);
                a0.Store(st); a1.Store(st + 8); a2.Store(st + 16); a3.Store(st + 24);
            }
            return;
        }
        for (int j = 0; j < tiles * KeyTile; j++)
        {
            float* k = units[j / KeyUnit] + j % KeyUnit;
            float acc = 0f;
            for (nint c = 0; c < d; c++) acc = MathF.FusedMultiplyAdd(q[c], k[c * stride], acc);
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
