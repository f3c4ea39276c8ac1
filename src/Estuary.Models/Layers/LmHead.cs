// Output projection to vocabulary logits; NormHead divides each logit by its lm_head row's L2 norm (computed once, in double).
// Dividing the logit instead of the weight row keeps the stored dtype and gives the fp32 reference exactly up to rounding; it also
// lets the projection be quantized (INT8) while the norms stay those of the float rows.
using Estuary.Tensors;

namespace Estuary.Models.Layers;

/// <summary>logits[S, V] = hidden[S, H] · W[V, H]ᵀ, optionally with row-normalised W (Baichuan2 NormHead).</summary>
public sealed class LmHead
{
    private readonly IBackend _backend;
    private readonly float[]? _inverseRowNorms; // [V] 1 / max(‖W[v]‖₂, 1e-12), NormHead only
    private IDisposable? _ownedStorage;         // memory of a float projection that only this head points into

    /// <summary>
    /// Creates a float head over <paramref name="weight"/>; <paramref name="normalizeRows"/> turns on NormHead;
    /// <paramref name="ownsStorage"/> says the weight's memory is the head's own (freed when the projection is replaced).
    /// </summary>
    public LmHead(IBackend backend, Weight weight, bool normalizeRows, bool tiedToEmbedding = false, bool ownsStorage = false)
        : this(backend, new Linear(backend, weight), normalizeRows ? InverseRowNorms(weight.Rows, weight.Cols, weight.ReadRow) : null, tiedToEmbedding)
    {
        if (ownsStorage) _ownedStorage = weight.Storage;
    }

    /// <summary>Creates a head over any projection; <paramref name="inverseRowNorms"/> [V] turns on NormHead.</summary>
    public LmHead(IBackend backend, ILinear linear, float[]? inverseRowNorms, bool tiedToEmbedding)
    {
        ArgumentNullException.ThrowIfNull(linear);
        if (inverseRowNorms is not null && inverseRowNorms.Length != linear.OutFeatures)
            throw new ArgumentException($"NormHead: {inverseRowNorms.Length} row norms for {linear.OutFeatures} rows");
        _backend = backend;
        Linear = linear;
        _inverseRowNorms = inverseRowNorms;
        IsTiedToEmbedding = tiedToEmbedding;
    }

    /// <summary>The projection [V, H] (a dense <see cref="Layers.Linear"/>, or a quantized one).</summary>
    public ILinear Linear { get; private set; }

    /// <summary>Replaces the projection (e.g. by an INT8 copy of it); memory the old one owned is freed at once.</summary>
    public void ReplaceProjection(ILinear linear)
    {
        ArgumentNullException.ThrowIfNull(linear);
        if (linear.OutFeatures != Linear.OutFeatures || linear.InFeatures != Linear.InFeatures)
            throw new ArgumentException($"the new head is [{linear.OutFeatures}, {linear.InFeatures}], the old one [{Linear.OutFeatures}, {Linear.InFeatures}]");
        Linear = linear;
        _ownedStorage?.Dispose();
        _ownedStorage = null;
    }

    /// <summary>Whether the projection is the embedding table (tied weights: no bytes of its own).</summary>
    public bool IsTiedToEmbedding { get; }

    /// <summary>Whether NormHead is applied.</summary>
    public bool NormalizesRows => _inverseRowNorms != null;

    /// <summary>logits[S, V] from hidden[S, H].</summary>
    public void Forward(DeviceTensor hidden, DeviceTensor logits)
    {
        Linear.Forward(hidden, logits, batch: null);
        if (_inverseRowNorms != null) _backend.ScaleColumns(logits, _inverseRowNorms);
    }

    /// <summary>[rows] 1 / max(‖row‖₂, 1e-12) of the rows <paramref name="readRow"/> gives.</summary>
    public static float[] InverseRowNorms(int rows, int cols, RowReader readRow)
    {
        ArgumentNullException.ThrowIfNull(readRow);
        var result = new float[rows];
        var row = new float[cols];
        for (int v = 0; v < rows; v++)
        {
            readRow(v, row);
            double sum = 0;
            foreach (var value in row) sum += (double)value * value;
            result[v] = (float)(1.0 / Math.Max(Math.Sqrt(sum), 1e-12));
        }
        return result;
    }

    /// <summary>Writes row <c>row</c> of a [rows, cols] matrix into <c>dst</c> as floats.</summary>
    public delegate void RowReader(int row, Span<float> dst);
}
