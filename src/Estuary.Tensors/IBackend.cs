// The tensor-math contract models are written against; CPU now, CUDA next. Shapes in comments use Dims.md names.
// Activations are F32 on the CPU backend; weights stay in their stored dtype and are widened inside the kernels.
namespace Estuary.Tensors;

/// <summary>Tensor operations a model needs for one forward step.</summary>
public interface IBackend : IDisposable
{
    /// <summary>Short name for logs ("cpu", "cuda").</summary>
    string Name { get; }

    /// <summary>A new zeroed [rows, cols] activation tensor.</summary>
    DeviceTensor Allocate(int rows, int cols, DType dtype = DType.F32);

    /// <summary>Allocates a paged KV cache.</summary>
    IKvCacheStorage AllocateKvCache(KvCacheSpec spec);

    /// <summary>dst[R, C] ← src (row-major, R·C floats).</summary>
    void Upload(ReadOnlySpan<float> src, DeviceTensor dst);

    /// <summary>dst (R·C floats) ← src[R, C].</summary>
    void Download(DeviceTensor src, Span<float> dst);

    /// <summary>y[T, H] = table[ids[t], :]; table [V, H].</summary>
    void Embedding(Weight table, ReadOnlySpan<int> ids, DeviceTensor y);

    /// <summary>y[T, N] = x[T, K] · w[N, K]ᵀ.</summary>
    void MatMul(DeviceTensor x, Weight w, DeviceTensor y);

    /// <summary>
    /// <paramref name="w"/> [N, K] in the layout this backend's MatMul reads fastest, as a new weight in memory of its own (the
    /// caller may then release the original), or <paramref name="w"/> itself when it is already best as it is.
    /// </summary>
    Weight PrepareLinear(Weight w) => w;

    /// <summary>y[T, N] = x[T, K] · w[N, K]ᵀ with w quantized (INT8/INT4), multiplied packed inside the kernel (no float copy of w).</summary>
    void MatMul(DeviceTensor x, Quantization.QuantizedWeight w, DeviceTensor y);

    /// <summary>y[T, H] = x / sqrt(mean(x²) + eps) · gamma[H].</summary>
    void RmsNorm(DeviceTensor x, Weight gamma, float eps, DeviceTensor y);

    /// <summary>x[T, H] += y[T, H].</summary>
    void Add(DeviceTensor x, DeviceTensor y);

    /// <summary>y[T, N] += bias[N] (a linear layer's bias; bias stays in its stored dtype).</summary>
    void AddBias(DeviceTensor y, Weight bias);

    /// <summary>
    /// In place on x[T, heads·D]: every head's D values become x / sqrt(mean(x²) + eps) · gamma[D] (per-head RMSNorm, Qwen3's
    /// q_norm and k_norm).
    /// </summary>
    void RmsNormHeads(DeviceTensor x, int numHeads, Weight gamma, float eps);

    /// <summary>y[T, I] = silu(gate[T, I]) · up[T, I].</summary>
    void SiluMul(DeviceTensor gate, DeviceTensor up, DeviceTensor y);

    /// <summary>
    /// In place on x[T, heads·D']: rotate_half RoPE at positions b.Positions[t] on the first D = table.HeadDim dimensions of each
    /// head (D' = D, or wider with partial rotary, whose other dimensions pass through).
    /// </summary>
    void Rope(DeviceTensor x, int numHeads, RopeTable table, ForwardBatch b);

    /// <summary>k, v [T, Hkv·D] → cache slots b.SlotMapping[t].</summary>
    void WriteKv(DeviceTensor k, DeviceTensor v, KvLayer kv, ForwardBatch b);

    /// <summary>o[T, Hq·D] = causal softmax(q·kᵀ·scale + alibi)·v per sequence, reading keys 0..pos from the paged cache.</summary>
    void PagedAttention(DeviceTensor q, KvLayer kv, ForwardBatch b, AttentionParams p, DeviceTensor o);

    /// <summary>y[i, :] = x[rows[i], :].</summary>
    void GatherRows(DeviceTensor x, ReadOnlySpan<int> rows, DeviceTensor y);

    /// <summary>y[T, N] *= scales[N] (NormHead's per-row 1/‖w‖ applied to the logits).</summary>
    void ScaleColumns(DeviceTensor y, ReadOnlySpan<float> scales);

    /// <summary>y[rows[i], :] += scale · x[i, :]; x [n, N], y [T, N] (a LoRA delta added into its adapter's rows).</summary>
    void AddRows(DeviceTensor x, ReadOnlySpan<int> rows, float scale, DeviceTensor y);

    /// <summary>
    /// Every adapter's LoRA delta of one linear in one call: for each segment s and each i in [s.Start, s.Start + s.Count),
    /// y[rows[i], :] += s.Scale · (x[rows[i], :] · s.Aᵀ) · s.Bᵀ, with x [T, K], y [T, N] and distinct rows across segments. The
    /// result equals GatherRows, MatMul(A), MatMul(B) and AddRows run per segment. Returns false, having done nothing, when the
    /// backend has no combined path for these segments; the caller then runs those operations itself.
    /// </summary>
    bool TryAddLoraDeltas(DeviceTensor x, ReadOnlySpan<int> rows, ReadOnlySpan<LoraSegment> segments, DeviceTensor y) => false;
}
