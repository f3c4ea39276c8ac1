// Causal attention over a paged KV cache (K [Hkv, NumBlocks, D, B], keys transposed inside each block; V [Hkv, NumBlocks, B, D]; F32,
// BF16 or F16 elements widened on load, or I8 ones converted, each key's raw score and each value's probability then multiplied by
// the vector's scale), with optional ALiBi, for the query rows of one sequence and one KV head (all query heads of
// its GQA group). Keys are read in units of 16: element d of 16 consecutive keys is one contiguous run in the cache when B is a
// multiple of 16 (otherwise the keys are first gathered into an F32 panel kT[D, L], L rounded up to 64), so a score for 64 keys at
// once is D broadcast-FMAs into 4 vectors — no horizontal sums and no copying; values are accumulated with the output row held in
// registers.
// Invariant (batch invariance): a row's output depends only on its query, its position and the cache — score(j) is one FMA chain
// over d in order, then ·scale + slope·j; the softmax and the value sums run in fixed orders over keys 0..pos — whatever the
// other rows, heads, sequences, threads, block size or vector width (the scalar path computes the same chains).
// A sliding window W (Mistral, Qwen2/3 sliding layers) keeps keys j > pos − W: the scores of earlier keys are set to −∞ before the
// softmax, so their weights are exactly 0 and the window's outputs are those of attention over the window alone.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Estuary.Backend.Cpu.Kernels;

/// <summary>Paged attention kernels; the backend parallelises over (sequence, KV head, row tile).</summary>
internal static unsafe class PagedAttentionKernel
{
    // Single-query (decode) walks prefetch the keys this many score tiles ahead and the values this many blocks' worth of rows
    // ahead: a sequence's cache is scattered in 2–4 KiB pieces (one head of one block), too short for the hardware prefetchers.
    // Kernel benchmark 'attention' (16 × 640 keys, 12 × 64, 2 threads), six runs alternating with the build before: BF16 K/V
    // 1.96–2.42 → 1.73–1.91 ms per layer; F32 2.44–3.22 → 2.45–3.64 ms, within the noise (F32 already streams at the read bandwidth).
    private const int PrefetchTiles = 2;
    private const int PrefetchValueBlocks = 2;

    /// <summary>Keys per unit: one Vector512 (or two Vector256) of scores.</summary>
    public const int KeyUnit = 16;

    /// <summary>Keys per score tile (4 units).</summary>
    public const int KeyTile = 64;

    /// <summary>Keys rounded up to whole score tiles (the scores scratch and panel width).</summary>
    public static int PaddedKeys(int keys) => (keys + KeyTile - 1) / KeyTile * KeyTile;

    /// <summary>Whether keys are read straight from the cache (B a multiple of 16) rather than through a gathered panel.</summary>
    public static bool ReadsCacheDirectly(int blockSize) => blockSize % KeyUnit == 0;

    /// <summary>
    /// units[u] = address of element 0 of keys 16u..16u+15 in one head's key slab <paramref name="kHead"/> ([NumBlocks, D, B]), for u &lt; PaddedKeys(keys)/16
    /// (units past the last key repeat the last one); element d of those keys starts B elements further per d. Needs B a multiple of 16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CacheKeyUnits<TW>(byte* kHead, ReadOnlySpan<int> blockTable, int blockSize, int d,
        int keys, byte** units)
        where TW : struct, IWeightLoad
    {
        int used = (keys + KeyUnit - 1) / KeyUnit, padded = PaddedKeys(keys) / KeyUnit;
        int unitsPerBlock = blockSize / KeyUnit;
        nint headBlock = (nint)d * blockSize; // elements of one head in one block: [D, B]
        for (int u = 0; u < used; u++)
        {
            int block = u / unitsPerBlock, offset = u % unitsPerBlock * KeyUnit;
            units[u] = kHead + ((nint)blockTable[block] * headBlock + offset) * TW.ElementSize;
        }
        for (int u = used; u < padded; u++) units[u] = units[used - 1];
    }

    /// <summary>
    /// kT[d, j] = K[slot(j), head, d] widened, for keys j &lt; <paramref name="keys"/>, zero up to the padded width, and
    /// units[u] = kT + 16u (element d of a unit PaddedKeys(keys) floats further per d); for block sizes not a multiple of 16.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GatherKeyUnits<TW>(byte* kHead, ReadOnlySpan<int> blockTable, int blockSize, int d,
        int keys, float* kT, byte** units)
        where TW : struct, IWeightLoad
    {
        int l = PaddedKeys(keys);
        nint headBlock = (nint)d * blockSize;
        for (int j = 0; j < l; j++)
        {
            if (j < keys)
            {
                ref byte k = ref *(kHead + ((nint)blockTable[j / blockSize] * headBlock + j % blockSize) * TW.ElementSize);
                for (int c = 0; c < d; c++) kT[(nint)c * l + j] = TW.Load1(ref k, (nuint)c * (nuint)blockSize);
            }
            else
            {
                for (int c = 0; c < d; c++) kT[(nint)c * l + j] = 0f;
            }
        }
        for (int u = 0; u < l / KeyUnit; u++) units[u] = (byte*)(kT + u * KeyUnit);
    }

    /// <summary>
    /// o[D] = softmax_j(q·k_j·scale + slope·j) · v_j over keys j = first..pos, the keys read through <paramref name="units"/> as
    /// <typeparamref name="TK"/> elements (element d of unit u at units[u] + d·<paramref name="stride"/> elements) and the values
    /// as <typeparamref name="TV"/> elements from the paged cache.
    /// </summary>
    /// <param name="scores">Scratch, at least PaddedKeys(pos + 1) floats.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Attend<TK, TV>(float* q, byte** units, nint stride, byte* vHead, ReadOnlySpan<int> blockTable, int blockSize,
        int d, int pos, int first, float scale, float slope, float* scores, float* o, bool simd,
        float* keyScales = null, float* valueScales = null)
        where TK : struct, IWeightLoad where TV : struct, IWeightLoad
    {
        int n = pos + 1;
        Scores<TK>(q, units, stride, d, n, scores, simd);
        if (keyScales != null) MultiplyInPlace(scores, keyScales, n);
        float sum = Softmax(scores, n, first, scale, slope, simd);
        if (valueScales != null) MultiplyInPlace(scores, valueScales, n);
        Values<TV>(scores, n, vHead, blockTable, blockSize, d, o, simd);
        VectorMath.Scale(ref *o, 1f / sum, d, simd);
    }

    // s[j] *= f[j] for j < n (an I8 cache's per-vector scales: raw scores → scores, probabilities → value weights). One IEEE
    // multiply per element, so the vector and scalar loops give the same bits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MultiplyInPlace(float* s, float* f, int n)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; j + 16 <= n; j += 16) (Vector512.Load(s + j) * Vector512.Load(f + j)).Store(s + j);
        for (; j + 8 <= n; j += 8) (Vector256.Load(s + j) * Vector256.Load(f + j)).Store(s + j);
        for (; j < n; j++) s[j] *= f[j];
    }

    /// <summary>
    /// Attention for <paramref name="count"/> (1–4) query vectors of one KV head (rows and heads of its GQA group) that share the
    /// keys: each key vector loaded once serves every query (scores), each value row every pair of queries (values). Every output
    /// is bit-identical to <see cref="Attend{TK, TV}"/> of its query alone: the same chains in the same orders.
    /// </summary>
    /// <param name="q">[count] query vectors (D floats each).</param>
    /// <param name="o">[count] outputs (D floats each).</param>
    /// <param name="pos">[count] positions (a query attends keys 0..pos).</param>
    /// <param name="slope">[count] ALiBi slopes (0 without ALiBi).</param>
    /// <param name="window">Sliding window W: a query at pos attends keys pos − W + 1..pos only; 0 for none.</param>
    /// <param name="scores">[count] scratch rows of at least PaddedKeys(max pos + 1) floats.</param>
    /// <param name="keyScales">I8 caches: [max pos + 1] scale of each key (null for float caches).</param>
    /// <param name="valueScales">I8 caches: [max pos + 1] scale of each value (null for float caches).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AttendGroup<TK, TV>(int count, float** q, float** o, int* pos, float* slope, byte** units, nint stride, byte* vHead,
        ReadOnlySpan<int> blockTable, int blockSize, int d, float scale, float** scores, bool simd, int window,
        float* keyScales = null, float* valueScales = null)
        where TK : struct, IWeightLoad where TV : struct, IWeightLoad
    {
        if (!(simd && Vector512.IsHardwareAccelerated) || count == 1)
        {
            for (int i = 0; i < count; i++)
                Attend<TK, TV>(q[i], units, stride, vHead, blockTable, blockSize, d, pos[i], FirstKey(pos[i], window), scale, slope[i],
                    scores[i], o[i], simd, keyScales, valueScales);
            return;
        }
        int nMax = 0;
        for (int i = 0; i < count; i++) nMax = Math.Max(nMax, pos[i] + 1);
        switch (count)
        {
            case 2: ScoresShared<TK, Queries2>(q, units, stride, d, nMax, scores); break;
            case 3: ScoresShared<TK, Queries3>(q, units, stride, d, nMax, scores); break;
            default: ScoresShared<TK, Queries4>(q, units, stride, d, nMax, scores); break;
        }
        float* inv = stackalloc float[4];
        for (int i = 0; i < count; i++)
        {
            if (keyScales != null) MultiplyInPlace(scores[i], keyScales, pos[i] + 1);
            inv[i] = 1f / Softmax(scores[i], pos[i] + 1, FirstKey(pos[i], window), scale, slope[i], simd);
            if (valueScales != null) MultiplyInPlace(scores[i], valueScales, pos[i] + 1);
        }
        int first = 0;
        if (d == 64)
        {
            for (; first + 2 <= count; first += 2)
                ValuesPair<TV>(scores[first], pos[first] + 1, scores[first + 1], pos[first + 1] + 1, vHead, blockTable, blockSize,
                    o[first], o[first + 1]);
        }
        for (int i = first; i < count; i++) Values<TV>(scores[i], pos[i] + 1, vHead, blockTable, blockSize, d, o[i], simd);
        for (int i = 0; i < count; i++) VectorMath.Scale(ref *o[i], inv[i], d, simd);
    }

    /// <summary>The first key a query at <paramref name="pos"/> attends: pos − W + 1 with a sliding window W (> 0), else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int FirstKey(int pos, int window) => window > 0 ? Math.Max(0, pos - window + 1) : 0;

    // s[j] = s[j]·scale + slope·j (a multiply, a multiply, an add: no fusing, the same bits on every path), and −∞ for keys before
    // `first` (outside a sliding window: weight exactly 0), then the max is subtracted and exponentiated in place; returns Σ_j exp.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Softmax(float* s, int n, int first, float scale, float slope, bool simd)
    {
        int j = 0;
        if (simd && Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vs = Vector512.Create(scale), vm = Vector512.Create(slope), step = Vector512.Create(16f);
            Vector512<float> jv = Vector512.Create(0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            for (; j + 16 <= n; j += 16, jv += step) (Vector512.Load(s + j) * vs + vm * jv).Store(s + j);
        }
        for (; j < n; j++) s[j] = s[j] * scale + slope * j;
        for (j = 0; j < first; j++) s[j] = float.NegativeInfinity;
        float max = VectorMath.Max(ref *s, n, simd);
        return VectorMath.ExpShiftSum(ref *s, n, max, simd);
    }

    // s[j] = Σ_d q[d]·k_j[d] for j < n rounded up to 64, each an in-order FMA chain over d from +0.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores<TW>(float* q, byte** units, nint stride, int d, int n, float* s, bool simd)
        where TW : struct, IWeightLoad
    {
        int tiles = (n + KeyTile - 1) / KeyTile;
        nint step = stride * TW.ElementSize; // bytes from element d to d + 1 of a unit
        if (simd && Vector512.IsHardwareAccelerated)
        {
            for (int t = 0; t < tiles; t++)
            {
                byte* k0 = units[4 * t], k1 = units[4 * t + 1], k2 = units[4 * t + 2], k3 = units[4 * t + 3];
                int ahead = 4 * Math.Min(t + PrefetchTiles, tiles - 1);
                byte* f0 = units[ahead], f1 = units[ahead + 1], f2 = units[ahead + 2], f3 = units[ahead + 3];
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (nint c = 0, at = 0; c < d; c++, at += step)
                {
                    // Hot spot: one broadcast query element × 64 keys (4 cache lines of F32, 2 of BF16, when read from the cache).
                    if ((at & 63) == 0) { Sse.Prefetch0(f0 + at); Sse.Prefetch0(f1 + at); Sse.Prefetch0(f2 + at); Sse.Prefetch0(f3 + at); }
                    var qc = Vector512.Create(q[c]);
                    a0 = Vector512.FusedMultiplyAdd(qc, TW.Load16(k0 + at), a0);
                    a1 = Vector512.FusedMultiplyAdd(qc, TW.Load16(k1 + at), a1);
                    a2 = Vector512.FusedMultiplyAdd(qc, TW.Load16(k2 + at), a2);
                    a3 = Vector512.FusedMultiplyAdd(qc, TW.Load16(k3 + at), a3);
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
                byte* k0 = units[2 * t], k1 = units[2 * t + 1];
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (nint c = 0, at = 0; c < d; c++, at += step)
                {
                    var qc = Vector256.Create(q[c]);
                    a0 = Vector256.FusedMultiplyAdd(qc, TW.Load8(ref *(k0 + at), 0), a0);
                    a1 = Vector256.FusedMultiplyAdd(qc, TW.Load8(ref *(k0 + at), 8), a1);
                    a2 = Vector256.FusedMultiplyAdd(qc, TW.Load8(ref *(k1 + at), 0), a2);
                    a3 = Vector256.FusedMultiplyAdd(qc, TW.Load8(ref *(k1 + at), 8), a3);
                }
                float* st = s + t * (KeyTile / 2);
                a0.Store(st); a1.Store(st + 8); a2.Store(st + 16); a3.Store(st + 24);
            }
            return;
        }
        for (int j = 0; j < tiles * KeyTile; j++)
        {
            ref byte k = ref *units[j / KeyUnit];
            float acc = 0f;
            for (nint c = 0; c < d; c++) acc = MathF.FusedMultiplyAdd(q[c], TW.Load1(ref k, (nuint)(c * stride + j % KeyUnit)), acc);
            s[j] = acc;
        }
    }

    // s_i[j] = Σ_d q_i[d]·k_j[d] for TQ.M queries and j < n rounded up to 64: the Scores chains, each key vector loaded once for
    // all queries (4 units × up to 4 queries = 16 accumulators).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScoresShared<TK, TQ>(float** q, byte** units, nint stride, int d, int n, float** s)
        where TK : struct, IWeightLoad where TQ : struct, IQueryCount
    {
        int tiles = (n + KeyTile - 1) / KeyTile;
        nint step = stride * TK.ElementSize;
        float* q0 = q[0], q1 = q[1], q2 = TQ.M > 2 ? q[2] : q[1], q3 = TQ.M > 3 ? q[3] : q[1];
        for (int t = 0; t < tiles; t++)
        {
            byte* k0 = units[4 * t], k1 = units[4 * t + 1], k2 = units[4 * t + 2], k3 = units[4 * t + 3];
            Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
            Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
            for (nint c = 0, at = 0; c < d; c++, at += step)
            {
                // Hot spot (prefill, GQA decode): 64 keys' element c loaded once, FMA'd into every query's 4 score vectors.
                Vector512<float> v0 = TK.Load16(k0 + at), v1 = TK.Load16(k1 + at), v2 = TK.Load16(k2 + at), v3 = TK.Load16(k3 + at);
                var b = Vector512.Create(q0[c]);
                a00 = Vector512.FusedMultiplyAdd(b, v0, a00); a01 = Vector512.FusedMultiplyAdd(b, v1, a01);
                a02 = Vector512.FusedMultiplyAdd(b, v2, a02); a03 = Vector512.FusedMultiplyAdd(b, v3, a03);
                b = Vector512.Create(q1[c]);
                a10 = Vector512.FusedMultiplyAdd(b, v0, a10); a11 = Vector512.FusedMultiplyAdd(b, v1, a11);
                a12 = Vector512.FusedMultiplyAdd(b, v2, a12); a13 = Vector512.FusedMultiplyAdd(b, v3, a13);
                if (TQ.M > 2)
                {
                    b = Vector512.Create(q2[c]);
                    a20 = Vector512.FusedMultiplyAdd(b, v0, a20); a21 = Vector512.FusedMultiplyAdd(b, v1, a21);
                    a22 = Vector512.FusedMultiplyAdd(b, v2, a22); a23 = Vector512.FusedMultiplyAdd(b, v3, a23);
                }
                if (TQ.M > 3)
                {
                    b = Vector512.Create(q3[c]);
                    a30 = Vector512.FusedMultiplyAdd(b, v0, a30); a31 = Vector512.FusedMultiplyAdd(b, v1, a31);
                    a32 = Vector512.FusedMultiplyAdd(b, v2, a32); a33 = Vector512.FusedMultiplyAdd(b, v3, a33);
                }
            }
            int o = t * KeyTile;
            a00.Store(s[0] + o); a01.Store(s[0] + o + 16); a02.Store(s[0] + o + 32); a03.Store(s[0] + o + 48);
            a10.Store(s[1] + o); a11.Store(s[1] + o + 16); a12.Store(s[1] + o + 32); a13.Store(s[1] + o + 48);
            if (TQ.M > 2) { a20.Store(s[2] + o); a21.Store(s[2] + o + 16); a22.Store(s[2] + o + 32); a23.Store(s[2] + o + 48); }
            if (TQ.M > 3) { a30.Store(s[3] + o); a31.Store(s[3] + o + 16); a32.Store(s[3] + o + 32); a33.Store(s[3] + o + 48); }
        }
    }

    // Values for two queries at D = 64 over a shared walk of the value rows: per query the even/odd chains of Values (so each
    // output is bit-identical to Values alone); every value row is loaded once for both queries.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ValuesPair<TW>(float* p, int n, float* r, int m, byte* vHead, ReadOnlySpan<int> blockTable, int blockSize,
        float* o, float* u)
        where TW : struct, IWeightLoad
    {
        const int D = 64;
        int es = TW.ElementSize;
        nint row = (nint)D * es, headBlock = blockSize * row;
        var keys = new ValueCursor(vHead, blockTable, blockSize, headBlock, row);
        Vector512<float> e0 = default, e1 = default, e2 = default, e3 = default, f0 = default, f1 = default, f2 = default, f3 = default;
        Vector512<float> g0 = default, g1 = default, g2 = default, g3 = default, h0 = default, h1 = default, h2 = default, h3 = default;
        int shared = Math.Min(n, m) & ~1, j = 0;
        for (; j < shared; j += 2)
        {
            byte* v = keys.Next();
            byte* w = keys.Next();
            Vector512<float> v0 = TW.Load16(v), v1 = TW.Load16(v + 16 * es), v2 = TW.Load16(v + 32 * es), v3 = TW.Load16(v + 48 * es);
            var pj = Vector512.Create(p[j]);
            var rj = Vector512.Create(r[j]);
            e0 = Vector512.FusedMultiplyAdd(pj, v0, e0); e1 = Vector512.FusedMultiplyAdd(pj, v1, e1);
            e2 = Vector512.FusedMultiplyAdd(pj, v2, e2); e3 = Vector512.FusedMultiplyAdd(pj, v3, e3);
            g0 = Vector512.FusedMultiplyAdd(rj, v0, g0); g1 = Vector512.FusedMultiplyAdd(rj, v1, g1);
            g2 = Vector512.FusedMultiplyAdd(rj, v2, g2); g3 = Vector512.FusedMultiplyAdd(rj, v3, g3);
            v0 = TW.Load16(w); v1 = TW.Load16(w + 16 * es); v2 = TW.Load16(w + 32 * es); v3 = TW.Load16(w + 48 * es);
            pj = Vector512.Create(p[j + 1]);
            rj = Vector512.Create(r[j + 1]);
            f0 = Vector512.FusedMultiplyAdd(pj, v0, f0); f1 = Vector512.FusedMultiplyAdd(pj, v1, f1);
            f2 = Vector512.FusedMultiplyAdd(pj, v2, f2); f3 = Vector512.FusedMultiplyAdd(pj, v3, f3);
            h0 = Vector512.FusedMultiplyAdd(rj, v0, h0); h1 = Vector512.FusedMultiplyAdd(rj, v1, h1);
            h2 = Vector512.FusedMultiplyAdd(rj, v2, h2); h3 = Vector512.FusedMultiplyAdd(rj, v3, h3);
        }
        // Keys from `shared` (even) on, one at a time: even keys into the even chains (e, g), odd into the odd ones (f, h), as in
        // Values; a query takes part while j < its own length. At most a few keys (rows of one chunk differ by a few positions).
        for (; j < Math.Max(n, m); j++)
        {
            byte* v = keys.Next();
            Vector512<float> v0 = TW.Load16(v), v1 = TW.Load16(v + 16 * es), v2 = TW.Load16(v + 32 * es), v3 = TW.Load16(v + 48 * es);
            bool even = (j & 1) == 0;
            if (j < n)
            {
                var pj = Vector512.Create(p[j]);
                if (even) { e0 = Vector512.FusedMultiplyAdd(pj, v0, e0); e1 = Vector512.FusedMultiplyAdd(pj, v1, e1); e2 = Vector512.FusedMultiplyAdd(pj, v2, e2); e3 = Vector512.FusedMultiplyAdd(pj, v3, e3); }
                else { f0 = Vector512.FusedMultiplyAdd(pj, v0, f0); f1 = Vector512.FusedMultiplyAdd(pj, v1, f1); f2 = Vector512.FusedMultiplyAdd(pj, v2, f2); f3 = Vector512.FusedMultiplyAdd(pj, v3, f3); }
            }
            if (j < m)
            {
                var rj = Vector512.Create(r[j]);
                if (even) { g0 = Vector512.FusedMultiplyAdd(rj, v0, g0); g1 = Vector512.FusedMultiplyAdd(rj, v1, g1); g2 = Vector512.FusedMultiplyAdd(rj, v2, g2); g3 = Vector512.FusedMultiplyAdd(rj, v3, g3); }
                else { h0 = Vector512.FusedMultiplyAdd(rj, v0, h0); h1 = Vector512.FusedMultiplyAdd(rj, v1, h1); h2 = Vector512.FusedMultiplyAdd(rj, v2, h2); h3 = Vector512.FusedMultiplyAdd(rj, v3, h3); }
            }
        }
        (e0 + f0).Store(o); (e1 + f1).Store(o + 16); (e2 + f2).Store(o + 32); (e3 + f3).Store(o + 48);
        (g0 + h0).Store(u); (g1 + h1).Store(u + 16); (g2 + h2).Store(u + 32); (g3 + h3).Store(u + 48);
    }

    // o[c] = Σ_j p_j·v_j[c]: even keys into one accumulator, odd keys into another (each an in-order FMA chain from +0), then
    // o = even + odd. Two chains per element keep the FMA pipes busy when D is only a few vectors.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Values<TW>(float* p, int n, byte* vHead, ReadOnlySpan<int> blockTable, int blockSize,
        int d, float* o, bool simd)
        where TW : struct, IWeightLoad
    {
        nint row = (nint)d * TW.ElementSize, headBlock = blockSize * row; // bytes of one value row, of one head's [B, D] in a block
        var keys = new ValueCursor(vHead, blockTable, blockSize, headBlock, row);
        if (simd && Vector512.IsHardwareAccelerated && d == 64)
        {
            const int Es16 = 16; // elements per vector
            int es = TW.ElementSize;
            // A second cursor runs `lead` rows ahead and prefetches each row it passes.
            var ahead = new ValueCursor(vHead, blockTable, blockSize, headBlock, row);
            int lead = Math.Min(n, PrefetchValueBlocks * blockSize), aheadAt = 0;
            for (; aheadAt < lead; aheadAt++) ahead.Next();
            Vector512<float> e0 = default, e1 = default, e2 = default, e3 = default, f0 = default, f1 = default, f2 = default, f3 = default;
            int j = 0;
            for (; j + 1 < n; j += 2)
            {
                for (int r = 0; r < 2 && aheadAt < n; r++, aheadAt++)
                {
                    byte* a = ahead.Next();
                    for (nint line = 0; line < row; line += 64) Sse.Prefetch0(a + line);
                }
                byte* v = keys.Next();
                byte* w = keys.Next();
                var pj = Vector512.Create(p[j]);
                var pk = Vector512.Create(p[j + 1]);
                e0 = Vector512.FusedMultiplyAdd(pj, TW.Load16(v), e0); e1 = Vector512.FusedMultiplyAdd(pj, TW.Load16(v + Es16 * es), e1);
                e2 = Vector512.FusedMultiplyAdd(pj, TW.Load16(v + 2 * Es16 * es), e2); e3 = Vector512.FusedMultiplyAdd(pj, TW.Load16(v + 3 * Es16 * es), e3);
                f0 = Vector512.FusedMultiplyAdd(pk, TW.Load16(w), f0); f1 = Vector512.FusedMultiplyAdd(pk, TW.Load16(w + Es16 * es), f1);
                f2 = Vector512.FusedMultiplyAdd(pk, TW.Load16(w + 2 * Es16 * es), f2); f3 = Vector512.FusedMultiplyAdd(pk, TW.Load16(w + 3 * Es16 * es), f3);
            }
            if (j < n)
            {
                byte* v = keys.Next();
                var pj = Vector512.Create(p[j]);
                e0 = Vector512.FusedMultiplyAdd(pj, TW.Load16(v), e0); e1 = Vector512.FusedMultiplyAdd(pj, TW.Load16(v + Es16 * es), e1);
                e2 = Vector512.FusedMultiplyAdd(pj, TW.Load16(v + 2 * Es16 * es), e2); e3 = Vector512.FusedMultiplyAdd(pj, TW.Load16(v + 3 * Es16 * es), e3);
            }
            (e0 + f0).Store(o); (e1 + f1).Store(o + 16); (e2 + f2).Store(o + 32); (e3 + f3).Store(o + 48);
            return;
        }
        // Any D: the same two chains per element, a vector (or one element) at a time through memory.
        float* odd = stackalloc float[d];
        new Span<float>(o, d).Clear();
        new Span<float>(odd, d).Clear();
        for (int j = 0; j < n; j++) Axpy<TW>(p[j], keys.Next(), (j & 1) == 0 ? o : odd, d, simd);
        for (int c = 0; c < d; c++) o[c] += odd[c];
    }

    // y[c] = fma(a, x[c], y[c]) for c < n, x widened from TW elements (each element one FMA, whatever the path).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy<TW>(float a, byte* x, float* y, int n, bool simd)
        where TW : struct, IWeightLoad
    {
        nuint c = 0;
        if (simd)
        {
            var va = Vector256.Create(a);
            for (; c + 8 <= (nuint)n; c += 8)
                Vector256.FusedMultiplyAdd(va, TW.Load8(ref *x, c), Vector256.Load(y + c)).Store(y + c);
        }
        for (; c < (nuint)n; c++) y[c] = MathF.FusedMultiplyAdd(a, TW.Load1(ref *x, c), y[c]);
    }

    /// <summary>Walks a sequence's value rows (one head) in key order through its block table, without a division per key.</summary>
    private ref struct ValueCursor
    {
        private readonly byte* _cache;
        private readonly ReadOnlySpan<int> _table;
        private readonly int _blockSize;
        private readonly nint _blockBytes, _rowBytes; // this head's [B, D] in one block; one row
        private int _block, _slot;
        private byte* _head; // this head's [B, D] in the current block

        public ValueCursor(byte* headSlab, ReadOnlySpan<int> blockTable, int blockSize, nint blockBytes, nint rowBytes)
        {
            _cache = headSlab; _table = blockTable; _blockSize = blockSize; _blockBytes = blockBytes; _rowBytes = rowBytes;
            _slot = blockSize;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public byte* Next()
        {
            if (_slot == _blockSize)
            {
                _slot = 0;
                _head = _cache + _table[_block++] * _blockBytes;
            }
            return _head + _slot++ * _rowBytes;
        }
    }
}

/// <summary>How many queries share one key walk (a JIT-time constant).</summary>
internal interface IQueryCount
{
    /// <summary>Queries (2–4).</summary>
    static abstract int M { get; }
}

internal readonly struct Queries2 : IQueryCount { public static int M => 2; }

internal readonly struct Queries3 : IQueryCount { public static int M => 3; }

internal readonly struct Queries4 : IQueryCount { public static int M => 4; }
