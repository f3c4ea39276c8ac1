// Output projection to vocabulary logits; NormHead divides each logit by its lm_head row's L2 norm (computed once, in double).
// Dividing the logit instead of the weight row keeps the stored dtype and gives the fp32 reference exactly up to rounding.
using Estuary.Tensors;

namespace Estuary.Models.Layers;

/// <summary>logits[S, V] = hidden[S, H] · W[V, H]ᵀ, optionally with row-normalised W (Baichuan2 NormHead).</summary>
public sealed class LmHead
{
    private readonly IBackend _backend;
    private readonly float[]? _inverseRowNorms; // [V] 1 / max(‖W[v]‖₂, 1e-12), NormHead only

    /// <summary>Creates the head; <paramref name="normalizeRows"/> turns on NormHead.</summary>
    public LmHead(IBackend backend, Weight weight, bool normalizeRows)
    {
        _backend = backend;
        Weight = weight;
        Linear = new Linear(backend, weight);
        if (normalizeRows) _inverseRowNorms = InverseRowNorms(weight);
    }

    /// <summary>[V, H].</summary>
    public Weight Weight { get; }

    /// <summary>The projection (replaceable by a quantized one).</summary>
    public ILinear Linear { get; set; }

    /// <summary>Whether NormHead is applied.</summary>
    public bool NormalizesRows => _inverseRowNorms != null;

    /// <summary>logits[S, V] from hidden[S, H].</summary>
    public void Forward(DeviceTensor hidden, DeviceTensor logits)
    {
        Linear.Forward(hidden, logits, batch: null);
        if (_inverseRowNorms != null) _backend.ScaleColumns(logits, _inverseRowNorms);
    }

    private static float[] InverseRowNorms(Weight w)
    {
        var result = new float[w.Rows];
        var row = new float[w.Cols];
        for (int v = 0; v < w.Rows; v++)
        {
            w.ReadRow(v, row);
            double sum = 0;
            foreach (var value in row) sum += (double)value * value;
            result[v] = (float)(1.0 / Math.Max(Math.Sqrt(sum), 1e-12));
        }
        return result;
    }
}
