// Element types of checkpoint tensors and device buffers, with their sizes.
namespace Estuary.Tensors;

/// <summary>Element type of a tensor as stored in a checkpoint or on a device.</summary>
public enum DType
{
    /// <summary>IEEE 754 binary32.</summary>
    F32,
    /// <summary>IEEE 754 binary16.</summary>
    F16,
    /// <summary>bfloat16: the upper 16 bits of a binary32.</summary>
    BF16,
    /// <summary>Signed 32-bit integer (packed quantized weights).</summary>
    I32,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
}

/// <summary>Sizes and names of <see cref="DType"/> values.</summary>
public static class DTypeInfo
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this DType dtype) => dtype switch
    {
        DType.F32 or DType.I32 => 4,
        DType.F16 or DType.BF16 => 2,
        DType.I8 or DType.U8 => 1,
        DType.I64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>Parses a safetensors / Hugging Face dtype name ("F32", "bfloat16", "float16", ...).</summary>
    public static DType Parse(string name) => name.ToUpperInvariant() switch
    {
        "F32" or "FLOAT32" or "FLOAT" => DType.F32,
        "F16" or "FLOAT16" or "HALF" => DType.F16,
        "BF16" or "BFLOAT16" => DType.BF16,
        "I32" or "INT32" => DType.I32,
        "I8" or "INT8" => DType.I8,
        "U8" or "UINT8" => DType.U8,
        "I64" or "INT64" => DType.I64,
        _ => throw new FormatException($"unsupported dtype '{name}' (supported: F32, F16, BF16, I32, I8, U8, I64)"),
    };

    /// <summary>The safetensors name of a dtype.</summary>
    public static string SafetensorsName(this DType dtype) => dtype switch
    {
        DType.F32 => "F32",
        DType.F16 => "F16",
        DType.BF16 => "BF16",
        DType.I32 => "I32",
        DType.I8 => "I8",
        DType.U8 => "U8",
        DType.I64 => "I64",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    /// <summary>The Hugging Face <c>torch_dtype</c> name of a floating dtype.</summary>
    public static string TorchName(this DType dtype) => dtype switch
    {
        DType.F32 => "float32",
        DType.F16 => "float16",
        DType.BF16 => "bfloat16",
        _ => dtype.SafetensorsName().ToLowerInvariant(),
    };
}
