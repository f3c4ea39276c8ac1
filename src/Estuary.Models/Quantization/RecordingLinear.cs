// A calibration decorator: copies each input x [T, K] to the host, adds it to ActivationStats, then runs the wrapped linear.
using Estuary.Models.Layers;
using Estuary.Tensors;

namespace Estuary.Models.Quantization;

/// <summary>Records the inputs of <paramref name="inner"/> (only used while calibrating; allocation per call is acceptable there).</summary>
internal sealed class RecordingLinear(IBackend backend, ILinear inner, ActivationStats stats) : ILinear
{
    private float[] _host = [];

    public ILinear Inner => inner;

    public int InFeatures => inner.InFeatures;

    public int OutFeatures => inner.OutFeatures;

    public long WeightBytes => inner.WeightBytes;

    public void Forward(DeviceTensor x, DeviceTensor y, ForwardBatch? batch)
    {
        int n = x.Rows * x.Cols;
        if (_host.Length < n) _host = new float[n];
        backend.Download(x, _host.AsSpan(0, n));
        stats.Add(_host.AsSpan(0, n));
        inner.Forward(x, y, batch);
    }
}
