// IBackend on the CPU: validates shapes, then runs SIMD kernels on a worker pool whose waits spin briefly, then block (caller +
// NumThreads-1 workers).
// Invariant: one call at a time (not thread-safe); activations are F32 CpuTensors; weights stay in their stored dtype.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Estuary.Backend.Cpu.Jobs;
using Estuary.Backend.Cpu.Kernels;
using Estuary.Backend.Cpu.Threading;
using Estuary.Tensors;
using Estuary.Tensors.Quantization;

namespace Estuary.Backend.Cpu;

/// <summary>
/// CPU implementation of <see cref="IBackend"/> with AVX2/FMA-class Vector256 kernels and scalar fallbacks.
/// Not thread-safe: issue one operation at a time. MatMul is batch-invariant: every output row is bit-identical whatever the
/// number of rows in the call and the number of threads.
/// </summary>
public sealed class CpuBackend : IBackend
{
    private readonly WorkerPool _pool;
    private readonly FloatMatMul _matMul;
    private readonly QuantizedMatMulJob _quantizedMatMul;
    private readonly AttentionJob _attention;
    private readonly RowJob _rows = new();
    private readonly KvWriteJob _kvWrite = new();
    private readonly LoraDeltaJob _loraDeltas;
    private float[] _gamma = [];  // [H] widened RmsNorm gamma, grown on demand
    private float[] _scales = []; // [N] ScaleColumns scales copy, grown on demand
    private float[] _bias = [];   // [N] widened AddBias bias, grown on demand

    /// <summary>Most worker threads a backend starts: far past any useful oversubscription, well short of exhausting memory.</summary>
    public const int MaxThreads = 1024;

    /// <summary>Creates a backend using <paramref name="numThreads"/> threads (default: all logical processors).</summary>
    public CpuBackend(int? numThreads = null)
    {
        int n = numThreads ?? Environment.ProcessorCount;
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(numThreads), $"thread count must be positive, got {n}");
        if (n > MaxThreads)
            throw new ArgumentOutOfRangeException(nameof(numThreads),
                $"thread count must be at most {MaxThreads}, got {n} (this machine has {Environment.ProcessorCount} logical processors)");
        _pool = new WorkerPool(n);
        _matMul = new FloatMatMul(n);
        _quantizedMatMul = new QuantizedMatMulJob(n);
        _attention = new AttentionJob(n);
        _loraDeltas = new LoraDeltaJob(n);
    }

    /// <inheritdoc />
    public string Name => "cpu";

    /// <summary>Threads that run kernels, the calling thread included.</summary>
    public int NumThreads => _pool.NumThreads;

    /// <inheritdoc />
    public DeviceTensor Allocate(int rows, int cols, DType dtype = DType.F32)
    {
        if (dtype != DType.F32) throw new NotSupportedException($"Allocate: the CPU backend keeps activations in F32, not {dtype}");
        if (rows < 0 || cols < 0) throw new ArgumentOutOfRangeException(nameof(rows), $"Allocate: negative shape [{rows}, {cols}]");
        long n = (long)rows * cols;
        if (n > Array.MaxLength - LineFloats) throw new ArgumentOutOfRangeException(nameof(rows), $"Allocate: [{rows}, {cols}] exceeds {Array.MaxLength - LineFloats} elements");
        // The pinned array never moves, so starting at its first 64-byte boundary keeps row 0 on a cache line; rows of a multiple of
        // 16 floats all start on one. Vector512 loads and stores of y then never split a line, and two threads writing neighbouring
        // 64-output blocks of the packed matmul never share one.
        var data = GC.AllocateArray<float>((int)n + LineFloats - 1, pinned: true);
        return new CpuTensor(data, LineOffset(data), rows, cols);
    }

    private const int LineFloats = 16; // floats per 64-byte cache line

    // Floats from data[0] to the first 64-byte boundary (data is pinned).
    private static unsafe int LineOffset(float[] data)
    {
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(data));
        return (int)((64 - (address & 63)) & 63) / sizeof(float);
    }

    /// <inheritdoc />
    public IKvCacheStorage AllocateKvCache(KvCacheSpec spec) => new CpuKvCacheStorage(spec);

    /// <inheritdoc />
    public void Upload(ReadOnlySpan<float> src, DeviceTensor dst)
    {
        var d = Cpu(dst, nameof(Upload), nameof(dst));
        if (src.Length != d.Length) throw new ArgumentException($"Upload: source has {src.Length} floats, destination {d.Shape} needs {d.Length}");
        src.CopyTo(d.Span);
    }

    /// <inheritdoc />
    public void Download(DeviceTensor src, Span<float> dst)
    {
        var s = Cpu(src, nameof(Download), nameof(src));
        if (dst.Length != s.Length) throw new ArgumentException($"Download: destination has {dst.Length} floats, source {s.Shape} has {s.Length}");
        s.Span.CopyTo(dst);
    }

    /// <inheritdoc />
    public void Embedding(Weight table, ReadOnlySpan<int> ids, DeviceTensor y)
    {
        ArgumentNullException.ThrowIfNull(table);
        var yt = Cpu(y, nameof(Embedding), nameof(y));
        CheckFloatWeight(table, nameof(Embedding));
        if (table.Shape.Rank != 2 || yt.Rows != ids.Length || yt.Cols != table.Cols)
            throw new ArgumentException($"Embedding: table {table.Shape}, {ids.Length} ids and y {yt.Shape} disagree (want y [{ids.Length}, {table.Cols}])");
        bool simd = Vector256.IsHardwareAccelerated;
        for (int t = 0; t < ids.Length; t++)
        {
            int id = ids[t];
            if ((uint)id >= (uint)table.Rows) throw new ArgumentOutOfRangeException(nameof(ids), $"Embedding: id {id} at {t} outside vocabulary of {table.Rows} ('{table.Name}')");
            EmbeddingKernel.Row(table, id, ref yt.Row(t)[0], simd);
        }
    }

    /// <inheritdoc />
    public void MatMul(DeviceTensor x, Weight w, DeviceTensor y)
    {
        ArgumentNullException.ThrowIfNull(w);
        var xt = Cpu(x, nameof(MatMul), nameof(x));
        var yt = Cpu(y, nameof(MatMul), nameof(y));
        CheckFloatWeight(w, nameof(MatMul));
        if (w.Shape.Rank != 2 || xt.Cols != w.Cols || yt.Rows != xt.Rows || yt.Cols != w.Rows)
            throw new ArgumentException($"MatMul: x {xt.Shape} · w{w.Shape}ᵀ → y {yt.Shape} do not match (want x [T, {w.Cols}], y [T, {w.Rows}]; weight '{w.Name}')");
        if (Overlap(xt, yt)) throw new ArgumentException("MatMul: x and y overlap; the output must be a separate buffer");
        if (xt.Rows == 0 || w.Rows == 0) return;
        _matMul.Run(xt, w, yt, Vector256.IsHardwareAccelerated, _pool);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Rearranges 2-D float weights into <see cref="WeightLayout.Interleaved16"/> (new native memory, same bytes), which the
    /// outer-product kernels read 16 outputs at a time; weights with fewer than 16 rows stay as they are.
    /// </remarks>
    public Weight PrepareLinear(Weight w)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (w.Layout != WeightLayout.RowMajor || w.Shape.Rank != 2 || w.Rows < PackedMatMulKernel.Block) return w;
        CheckFloatWeight(w, nameof(PrepareLinear));
        return WeightPacking.Interleave16(w);
    }

    /// <inheritdoc />
    public void MatMul(DeviceTensor x, QuantizedWeight w, DeviceTensor y)
    {
        ArgumentNullException.ThrowIfNull(w);
        var xt = Cpu(x, nameof(MatMul), nameof(x));
        var yt = Cpu(y, nameof(MatMul), nameof(y));
        if (xt.Cols != w.Cols || yt.Rows != xt.Rows || yt.Cols != w.Rows)
            throw new ArgumentException($"MatMul: x {xt.Shape} · w[{w.Rows}, {w.Cols}]ᵀ → y {yt.Shape} do not match (quantized weight '{w.Name}')");
        if (Overlap(xt, yt)) throw new ArgumentException("MatMul: x and y overlap; the output must be a separate buffer");
        if (xt.Rows == 0) return;
        unsafe
        {
            fixed (float* px = &xt.Row(0)[0])
            fixed (float* py = &yt.Row(0)[0])
            {
                try
                {
                    _pool.Run(_quantizedMatMul, _quantizedMatMul.PrepareActivations(xt.Rows, px, w, py, SimdWidths.Best, _pool.NumThreads));
                    _pool.Run(_quantizedMatMul, _quantizedMatMul.PrepareMatMul(_pool.NumThreads));
                }
                finally { _quantizedMatMul.Clear(); }
            }
        }
    }

    /// <inheritdoc />
    public void RmsNorm(DeviceTensor x, Weight gamma, float eps, DeviceTensor y)
    {
        ArgumentNullException.ThrowIfNull(gamma);
        var xt = Cpu(x, nameof(RmsNorm), nameof(x));
        var yt = Cpu(y, nameof(RmsNorm), nameof(y));
        CheckFloatWeight(gamma, nameof(RmsNorm));
        if (gamma.Shape.NumElements != xt.Cols || yt.Rows != xt.Rows || yt.Cols != xt.Cols)
            throw new ArgumentException($"RmsNorm: x {xt.Shape}, gamma {gamma.Shape} and y {yt.Shape} disagree (want gamma [{xt.Cols}], y = x's shape)");
        bool simd = Vector256.IsHardwareAccelerated;
        if (_gamma.Length < xt.Cols) _gamma = new float[xt.Cols];
        EmbeddingKernel.Row(gamma, 0, ref MemoryMarshal.GetArrayDataReference(_gamma), simd);
        RunRows(RowOp.RmsNorm, xt.Rows, xt.Cols, xt, _gamma, 0, yt, simd, eps);
    }

    /// <inheritdoc />
    public void Add(DeviceTensor x, DeviceTensor y)
    {
        var xt = Cpu(x, nameof(Add), nameof(x));
        var yt = Cpu(y, nameof(Add), nameof(y));
        if (xt.Rows != yt.Rows || xt.Cols != yt.Cols) throw new ArgumentException($"Add: x {xt.Shape} and y {yt.Shape} differ");
        RunRows(RowOp.Add, xt.Rows, xt.Cols, xt, yt.Data, yt.Offset, xt, Vector256.IsHardwareAccelerated, 0);
    }

    /// <inheritdoc />
    public void AddBias(DeviceTensor y, Weight bias)
    {
        ArgumentNullException.ThrowIfNull(bias);
        var yt = Cpu(y, nameof(AddBias), nameof(y));
        CheckFloatWeight(bias, nameof(AddBias));
        if (bias.Shape.NumElements != yt.Cols)
            throw new ArgumentException($"AddBias: bias {bias.Shape} ('{bias.Name}') does not fit y {yt.Shape} (want [{yt.Cols}])");
        bool simd = Vector256.IsHardwareAccelerated;
        if (_bias.Length < yt.Cols) _bias = new float[yt.Cols];
        EmbeddingKernel.Row(bias, 0, ref MemoryMarshal.GetArrayDataReference(_bias), simd);
        RunRows(RowOp.AddBias, yt.Rows, yt.Cols, yt, _bias, 0, yt, simd, 0);
    }

    /// <inheritdoc />
    public void RmsNormHeads(DeviceTensor x, int numHeads, Weight gamma, float eps)
    {
        ArgumentNullException.ThrowIfNull(gamma);
        var xt = Cpu(x, nameof(RmsNormHeads), nameof(x));
        CheckFloatWeight(gamma, nameof(RmsNormHeads));
        int headDim = (int)gamma.Shape.NumElements;
        if (numHeads <= 0 || headDim <= 0 || xt.Cols != numHeads * headDim)
            throw new ArgumentException($"RmsNormHeads: x {xt.Shape} is not [T, {numHeads}·{headDim}] for gamma {gamma.Shape} ('{gamma.Name}')");
        bool simd = Vector256.IsHardwareAccelerated;
        if (_gamma.Length < headDim) _gamma = new float[headDim];
        EmbeddingKernel.Row(gamma, 0, ref MemoryMarshal.GetArrayDataReference(_gamma), simd);
        _rows.SetHeads(numHeads, headDim);
        RunRows(RowOp.RmsNormHeads, xt.Rows, xt.Cols, xt, _gamma, 0, xt, simd, eps);
    }

    /// <inheritdoc />
    public void SiluMul(DeviceTensor gate, DeviceTensor up, DeviceTensor y)
    {
        var g = Cpu(gate, nameof(SiluMul), nameof(gate));
        var u = Cpu(up, nameof(SiluMul), nameof(up));
        var yt = Cpu(y, nameof(SiluMul), nameof(y));
        if (g.Rows != u.Rows || g.Cols != u.Cols || yt.Rows != g.Rows || yt.Cols != g.Cols)
            throw new ArgumentException($"SiluMul: gate {g.Shape}, up {u.Shape} and y {yt.Shape} must have one shape");
        RunRows(RowOp.SiluMul, g.Rows, g.Cols, g, u.Data, u.Offset, yt, Vector256.IsHardwareAccelerated, 0);
    }

    /// <inheritdoc />
    public void Rope(DeviceTensor x, int numHeads, RopeTable table, ForwardBatch b)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(b);
        var xt = Cpu(x, nameof(Rope), nameof(x));
        // A head may be wider than the table's D (partial rotary): its first D dimensions turn, the rest pass through.
        if (numHeads <= 0 || xt.Cols % numHeads != 0 || xt.Cols / numHeads < table.HeadDim)
            throw new ArgumentException($"Rope: x {xt.Shape} is not [T, {numHeads}·D'] with D' ≥ the table's {table.HeadDim}");
        if (xt.Rows > b.Positions.Length) throw new ArgumentException($"Rope: x has {xt.Rows} rows but the batch holds {b.Positions.Length} positions");
        for (int t = 0; t < xt.Rows; t++)
        {
            if ((uint)b.Positions[t] >= (uint)table.MaxPositions)
                throw new ArgumentOutOfRangeException(nameof(b), $"Rope: position {b.Positions[t]} of row {t} outside the table's {table.MaxPositions} positions");
        }
        _rows.SetRope(table, numHeads, xt.Cols / numHeads, b.Positions);
        RunRows(RowOp.Rope, xt.Rows, xt.Cols, xt, [], 0, xt, Vector256.IsHardwareAccelerated, 0);
    }

    /// <inheritdoc />
    public void WriteKv(DeviceTensor k, DeviceTensor v, KvLayer kv, ForwardBatch b)
    {
        ArgumentNullException.ThrowIfNull(b);
        var kt = Cpu(k, nameof(WriteKv), nameof(k));
        var vt = Cpu(v, nameof(WriteKv), nameof(v));
        var cache = Cache(kv, nameof(WriteKv));
        var spec = cache.Spec;
        int width = spec.NumKvHeads * spec.HeadDim;
        if (kt.Cols != width || vt.Cols != width || kt.Rows != vt.Rows || kt.Rows > b.SlotMapping.Length)
            throw new ArgumentException($"WriteKv: k {kt.Shape} and v {vt.Shape} must both be [T, {spec.NumKvHeads}·{spec.HeadDim}] with T ≤ {b.SlotMapping.Length}");
        for (int t = 0; t < kt.Rows; t++)
        {
            int slot = b.SlotMapping[t];
            if (slot >= cache.NumSlots) throw new ArgumentOutOfRangeException(nameof(b), $"WriteKv: slot {slot} of row {t} outside the cache's {cache.NumSlots} slots");
        }
        int chunks = _kvWrite.Prepare(kt, vt, cache, kv.Layer, b.SlotMapping, _pool.NumThreads);
        try { _pool.Run(_kvWrite, chunks); }
        finally { _kvWrite.Clear(); }
    }

    /// <inheritdoc />
    public void PagedAttention(DeviceTensor q, KvLayer kv, ForwardBatch b, AttentionParams p, DeviceTensor o)
    {
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(p);
        var qt = Cpu(q, nameof(PagedAttention), nameof(q));
        var ot = Cpu(o, nameof(PagedAttention), nameof(o));
        var cache = Cache(kv, nameof(PagedAttention));
        var spec = cache.Spec;
        int tokens = qt.Rows;
        if (p.NumHeads <= 0 || p.NumKvHeads <= 0 || p.NumHeads % p.NumKvHeads != 0)
            throw new ArgumentException($"PagedAttention: {p.NumHeads} query heads are not a multiple of {p.NumKvHeads} kv heads");
        if (p.NumKvHeads != spec.NumKvHeads || p.HeadDim != spec.HeadDim || b.BlockSize != spec.BlockSize)
            throw new ArgumentException($"PagedAttention: params (Hkv {p.NumKvHeads}, D {p.HeadDim}, B {b.BlockSize}) disagree with the cache {spec}");
        if (qt.Cols != p.NumHeads * p.HeadDim || ot.Rows != tokens || ot.Cols != qt.Cols)
            throw new ArgumentException($"PagedAttention: q {qt.Shape} and o {ot.Shape} must both be [T, {p.NumHeads}·{p.HeadDim}]");
        if (p.AlibiSlopes is { } slopes && slopes.Length != p.NumHeads)
            throw new ArgumentException($"PagedAttention: {slopes.Length} ALiBi slopes for {p.NumHeads} heads");
        if (p.SlidingWindow < 0) throw new ArgumentException($"PagedAttention: sliding window {p.SlidingWindow} is negative (0 means none)");
        if (Overlap(qt, ot)) throw new ArgumentException("PagedAttention: q and o overlap; the output must be a separate buffer");
        int maxPos = ValidateAttentionBatch(b, tokens, spec, _attention.RowSeq(tokens));
        if (tokens == 0) return;
        int chunks = _attention.Prepare(qt, cache.KeyArray(kv.Layer), cache.ValueArray(kv.Layer), cache.KeyScales(kv.Layer),
            cache.ValueScales(kv.Layer), spec.DType, spec.NumBlocks, b, p, ot, maxPos, Vector256.IsHardwareAccelerated, _pool.NumThreads);
        try { _pool.Run(_attention, chunks); }
        finally { _attention.Clear(); }
    }

    /// <inheritdoc />
    public void GatherRows(DeviceTensor x, ReadOnlySpan<int> rows, DeviceTensor y)
    {
        var xt = Cpu(x, nameof(GatherRows), nameof(x));
        var yt = Cpu(y, nameof(GatherRows), nameof(y));
        if (yt.Rows != rows.Length || yt.Cols != xt.Cols)
            throw new ArgumentException($"GatherRows: {rows.Length} rows of x {xt.Shape} do not fit y {yt.Shape}");
        for (int i = 0; i < rows.Length; i++)
        {
            if ((uint)rows[i] >= (uint)xt.Rows) throw new ArgumentOutOfRangeException(nameof(rows), $"GatherRows: row {rows[i]} outside x {xt.Shape}");
            xt.Row(rows[i]).CopyTo(yt.Row(i));
        }
    }

    /// <inheritdoc />
    public void ScaleColumns(DeviceTensor y, ReadOnlySpan<float> scales)
    {
        var yt = Cpu(y, nameof(ScaleColumns), nameof(y));
        if (scales.Length != yt.Cols) throw new ArgumentException($"ScaleColumns: {scales.Length} scales for y {yt.Shape}");
        if (_scales.Length < scales.Length) _scales = new float[scales.Length];
        scales.CopyTo(_scales);
        RunRows(RowOp.ScaleColumns, yt.Rows, yt.Cols, yt, _scales, 0, yt, Vector256.IsHardwareAccelerated, 0);
    }

    /// <inheritdoc />
    public void AddRows(DeviceTensor x, ReadOnlySpan<int> rows, float scale, DeviceTensor y)
    {
        var xt = Cpu(x, nameof(AddRows), nameof(x));
        var yt = Cpu(y, nameof(AddRows), nameof(y));
        if (xt.Rows != rows.Length || xt.Cols != yt.Cols)
            throw new ArgumentException($"AddRows: x {xt.Shape} must be [{rows.Length}, {yt.Cols}] to add into y {yt.Shape}");
        if (Overlap(xt, yt)) throw new ArgumentException("AddRows: x and y overlap; the source must be a separate buffer");
        for (int i = 0; i < rows.Length; i++)
        {
            if ((uint)rows[i] >= (uint)yt.Rows) throw new ArgumentOutOfRangeException(nameof(rows), $"AddRows: row {rows[i]} outside y {yt.Shape}");
            RowOpsKernels.AddScaled(xt.Row(i), scale, yt.Row(rows[i]));
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// With at least as many segments as threads, each segment runs start to finish on one thread (one dispatch for all adapters);
    /// with fewer, false is returned and the caller's per-adapter operations split each matmul across the threads instead.
    /// </remarks>
    public bool TryAddLoraDeltas(DeviceTensor x, ReadOnlySpan<int> rows, ReadOnlySpan<LoraSegment> segments, DeviceTensor y)
    {
        if (segments.Length < Math.Max(2, _pool.NumThreads)) return false;
        var xt = Cpu(x, nameof(TryAddLoraDeltas), nameof(x));
        var yt = Cpu(y, nameof(TryAddLoraDeltas), nameof(y));
        if (xt.Rows != yt.Rows) throw new ArgumentException($"TryAddLoraDeltas: x {xt.Shape} and y {yt.Shape} have different row counts");
        if (Overlap(xt, yt)) throw new ArgumentException("TryAddLoraDeltas: x and y overlap; the output must be a separate buffer");
        Span<bool> seen = xt.Rows <= 1024 ? stackalloc bool[xt.Rows] : new bool[xt.Rows];
        foreach (var s in segments)
        {
            CheckFloatWeight(s.A, nameof(TryAddLoraDeltas));
            CheckFloatWeight(s.B, nameof(TryAddLoraDeltas));
            if (s.A.Shape.Rank != 2 || s.B.Shape.Rank != 2 || s.A.Cols != xt.Cols || s.B.Rows != yt.Cols || s.B.Cols != s.A.Rows)
                throw new ArgumentException($"TryAddLoraDeltas: factors A{s.A.Shape} ('{s.A.Name}') and B{s.B.Shape} ('{s.B.Name}') do not map x {xt.Shape} to y {yt.Shape}");
            if (s.Start < 0 || s.Count <= 0 || s.Start + s.Count > rows.Length)
                throw new ArgumentOutOfRangeException(nameof(segments), $"TryAddLoraDeltas: segment [{s.Start}, +{s.Count}) outside the {rows.Length} rows given");
            foreach (int r in rows.Slice(s.Start, s.Count))
            {
                if ((uint)r >= (uint)xt.Rows) throw new ArgumentOutOfRangeException(nameof(rows), $"TryAddLoraDeltas: row {r} outside x {xt.Shape}");
                if (seen[r]) throw new ArgumentException($"TryAddLoraDeltas: row {r} appears twice; segments must own distinct rows", nameof(rows));
                seen[r] = true;
            }
        }
        int chunks = _loraDeltas.Prepare(xt, rows, segments, yt, Vector256.IsHardwareAccelerated);
        try { _pool.Run(_loraDeltas, chunks); }
        finally { _loraDeltas.Clear(); }
        return true;
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose() => _pool.Dispose();

    private void RunRows(RowOp op, int rows, int cols, CpuTensor a, float[] b, int bOff, CpuTensor c, bool simd, float eps)
    {
        int chunks = _rows.Prepare(op, rows, cols, a.Data, a.Offset, b, bOff, c.Data, c.Offset, simd, _pool.NumThreads);
        _rows.SetEps(eps);
        try { _pool.Run(_rows, chunks); }
        finally { _rows.Clear(); }
    }

    /// <summary>Checks query starts, positions and block tables so the kernel cannot read outside the cache; returns the largest position.</summary>
    private static int ValidateAttentionBatch(ForwardBatch b, int tokens, KvCacheSpec spec, int[] rowSeq)
    {
        int seqs = b.NumSeqs;
        if (seqs < 0 || seqs + 1 > b.QueryStarts.Length || b.QueryStarts[0] != 0 || b.QueryStarts[seqs] != tokens || tokens > b.Positions.Length)
            throw new ArgumentException($"PagedAttention: QueryStarts[0..{seqs}] must run from 0 to T = {tokens}");
        int maxPos = 0;
        for (int s = 0; s < seqs; s++)
        {
            int r0 = b.QueryStarts[s], r1 = b.QueryStarts[s + 1];
            if (r1 < r0) throw new ArgumentException($"PagedAttention: QueryStarts decreases at sequence {s} ({r0} → {r1})");
            int seqMax = -1;
            for (int r = r0; r < r1; r++)
            {
                int pos = b.Positions[r];
                if (pos < 0) throw new ArgumentOutOfRangeException(nameof(b), $"PagedAttention: negative position {pos} at row {r}");
                rowSeq[r] = s;
                seqMax = Math.Max(seqMax, pos);
            }
            if (seqMax < 0) continue;
            int blocks = seqMax / spec.BlockSize + 1;
            if (blocks > b.MaxBlocksPerSeq)
                throw new ArgumentOutOfRangeException(nameof(b), $"PagedAttention: position {seqMax} of sequence {s} needs {blocks} blocks, the table holds {b.MaxBlocksPerSeq}");
            var table = b.BlockTable(s);
            for (int i = 0; i < blocks; i++)
            {
                if ((uint)table[i] >= (uint)spec.NumBlocks)
                    throw new ArgumentOutOfRangeException(nameof(b), $"PagedAttention: block {table[i]} (entry {i} of sequence {s}) outside the cache's {spec.NumBlocks} blocks");
            }
            maxPos = Math.Max(maxPos, seqMax);
        }
        return maxPos;
    }

    private static bool Overlap(CpuTensor a, CpuTensor b) =>
        ReferenceEquals(a.Data, b.Data) && a.Length > 0 && b.Length > 0 && a.Offset < b.Offset + b.Length && b.Offset < a.Offset + a.Length;

    private static CpuTensor Cpu(DeviceTensor t, string op, string arg)
    {
        ArgumentNullException.ThrowIfNull(t, arg);
        return t as CpuTensor ?? throw new ArgumentException($"{op}: {arg} is a {t.GetType().Name}, not a CpuTensor from the CPU backend", arg);
    }

    private static CpuKvCacheStorage Cache(KvLayer kv, string op) =>
        kv.Storage as CpuKvCacheStorage ?? throw new ArgumentException($"{op}: KV cache is a {kv.Storage?.GetType().Name ?? "null"}, not a CpuKvCacheStorage");

    private static void CheckFloatWeight(Weight w, string op)
    {
        if (w.DType is not (DType.F32 or DType.F16 or DType.BF16))
            throw new NotSupportedException($"{op}: weight '{w.Name}' has dtype {w.DType}; the CPU backend reads F32, F16 and BF16 weights");
    }
}
