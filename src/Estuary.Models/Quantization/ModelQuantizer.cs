// Load-time transforms: replace a finished model's dense linears with INT8 ones, after checking the mode fits the checkpoint.
// Invariant: embeddings and norms stay as stored (see docs/quantization.md); decoder-block linears and an untied LM head change.
using Estuary.Models.Layers;

namespace Estuary.Models.Quantization;

/// <summary>Applies a <see cref="QuantizationMode"/> to a loaded model.</summary>
public static class ModelQuantizer
{
    /// <summary>Applies <paramref name="mode"/>; throws if the checkpoint cannot be served that way.</summary>
    public static void Apply(CausalLm model, QuantizationMode mode)
    {
        ArgumentNullException.ThrowIfNull(model);
        var stored = QuantizationConfig.From(model.Config);
        switch (mode)
        {
            case QuantizationMode.None:
                return;
            case QuantizationMode.Awq:
                if (stored?.Method != QuantizationConfig.AwqMethod)
                    throw new NotSupportedException("--quantization awq needs a pre-quantized AWQ checkpoint (AWQ needs calibration data: run `estuary quantize --method awq`)");
                return;
            case QuantizationMode.Int8:
                if (stored?.Method == QuantizationConfig.Int8Method) return;
                if (stored is not null) throw new NotSupportedException($"the checkpoint is already quantized ({stored.Method}); --quantization int8 applies to float checkpoints");
                QuantizeInt8(model);
                return;
        }
    }

    /// <summary>
    /// Replaces every dense decoder-block linear with an INT8 per-channel one, and the LM head too unless it is tied to the
    /// embedding or <paramref name="keepHead"/> is set (NormHead keeps the float rows' norms).
    /// </summary>
    public static void QuantizeInt8(CausalLm model, bool keepHead = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        var backend = model.Backend;
        ILinear Q(ILinear l) => l is Linear d ? new QuantizedLinear(backend, Int8Quantizer.Quantize(d.Weight), d.Bias) : l; // bias stays float
        foreach (var layer in model.Layers)
        {
            var a = layer.Attention;
            a.QProj = Q(a.QProj); a.KProj = Q(a.KProj); a.VProj = Q(a.VProj); a.OProj = Q(a.OProj);
            var m = layer.Mlp;
            m.Gate = Q(m.Gate); m.Up = Q(m.Up); m.Down = Q(m.Down);
        }
        if (!keepHead && !model.Head.IsTiedToEmbedding && model.Head.Linear is Linear head)
            model.Head.ReplaceProjection(new QuantizedLinear(backend, Int8Quantizer.Quantize(head.Weight)));
    }
}
