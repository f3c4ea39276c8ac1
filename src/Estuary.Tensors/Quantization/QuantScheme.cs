// How a QuantizedWeight stores its integers: the two weight-only schemes the engine serves.
namespace Estuary.Tensors.Quantization;

/// <summary>Weight-only quantization scheme of a <see cref="QuantizedWeight"/>.</summary>
public enum QuantScheme
{
    /// <summary>Symmetric INT8, one scale per output row: w = q·s, q ∈ [-127, 127].</summary>
    Int8PerChannel,
    /// <summary>Unsigned INT4 in groups of consecutive input columns with a zero point: w = (q - z)·s, q, z ∈ [0, 15].</summary>
    Int4Group,
}
