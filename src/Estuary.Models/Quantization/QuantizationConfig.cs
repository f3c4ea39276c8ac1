// The quantization_config block of config.json: AutoAWQ GEMM ("awq") or our INT8 format ("estuary_int8").
// Invariant: a parsed config is one the loader can serve (checked values), or parsing throws naming the field.
using System.Text.Json.Nodes;
using Estuary.Models.Config;

namespace Estuary.Models.Quantization;

/// <summary>How a checkpoint's linear layers are quantized.</summary>
public sealed record QuantizationConfig
{
    /// <summary>quant_method of AutoAWQ checkpoints.</summary>
    public const string AwqMethod = "awq";

    /// <summary>quant_method of our INT8 checkpoints.</summary>
    public const string Int8Method = "estuary_int8";

    /// <summary>quant_method.</summary>
    public required string Method { get; init; }

    /// <summary>Bits per weight (4 for AWQ, 8 for INT8).</summary>
    public required int Bits { get; init; }

    /// <summary>Input columns per scale; -1 = the whole row (per channel).</summary>
    public required int GroupSize { get; init; }

    /// <summary>Whether a zero point is stored (AWQ).</summary>
    public bool ZeroPoint { get; init; }

    /// <summary>Whether lm_head is quantized too (our INT8 format; written as modules_to_not_convert, loaded by its dtype).</summary>
    public bool LmHeadQuantized { get; init; }

    /// <summary>The config of <paramref name="config"/>'s checkpoint, or null when it is not quantized.</summary>
    public static QuantizationConfig? From(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Raw["quantization_config"] is not JsonObject q) return null;
        string method = q["quant_method"]?.GetValue<string>() ?? throw new InvalidDataException("quantization_config.quant_method is missing");
        int bits = q["bits"]?.GetValue<int>() ?? q["w_bit"]?.GetValue<int>() ?? throw new InvalidDataException("quantization_config.bits is missing");
        int group = q["group_size"]?.GetValue<int>() ?? q["q_group_size"]?.GetValue<int>() ?? -1;
        bool zeroPoint = q["zero_point"]?.GetValue<bool>() ?? false;
        switch (method)
        {
            case AwqMethod:
                string version = q["version"]?.GetValue<string>() ?? "gemm";
                if (!version.Equals("gemm", StringComparison.OrdinalIgnoreCase))
                    throw new NotSupportedException($"quantization_config.version '{version}' is not supported; only AutoAWQ GEMM checkpoints load");
                if (bits != 4) throw new NotSupportedException($"quantization_config.bits = {bits}; AWQ loading supports 4 bits");
                if (!zeroPoint) throw new NotSupportedException("quantization_config.zero_point = false is not supported; AWQ GEMM checkpoints carry zero points");
                if (group <= 0) throw new NotSupportedException($"quantization_config.group_size = {group}; AWQ needs a positive group size");
                break;
            case Int8Method:
                if (bits != 8) throw new InvalidDataException($"quantization_config.bits = {bits}; {Int8Method} stores 8 bits");
                break;
            default:
                throw new NotSupportedException($"quantization_config.quant_method '{method}' is not supported (supported: {AwqMethod}, {Int8Method})");
        }
        return new QuantizationConfig { Method = method, Bits = bits, GroupSize = group, ZeroPoint = zeroPoint };
    }

    /// <summary>The JSON block written into config.json.</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject { ["quant_method"] = Method, ["bits"] = Bits, ["group_size"] = GroupSize };
        if (Method == AwqMethod)
        {
            o["zero_point"] = ZeroPoint;
            o["version"] = "gemm";
            o["modules_to_not_convert"] = null;
        }
        else
        {
            o["symmetric"] = true;
            o["scale_dtype"] = "float16";
            o["modules_to_not_convert"] = LmHeadQuantized ? new JsonArray() : new JsonArray("lm_head");
        }
        return o;
    }
}
