// What the user asked the loader for: the checkpoint as stored, INT8 quantized on the fly, or a pre-quantized AWQ checkpoint.
namespace Estuary.Models.Quantization;

/// <summary>The <c>--quantization</c> choice.</summary>
public enum QuantizationMode
{
    /// <summary>Load as stored (quantized checkpoints still load quantized).</summary>
    None,
    /// <summary>Quantize float linears to INT8 per channel at load (like bitsandbytes load_in_8bit).</summary>
    Int8,
    /// <summary>Require an AWQ checkpoint (AWQ cannot be applied at load: it needs calibration; run <c>estuary quantize --method awq</c>).</summary>
    Awq,
}
