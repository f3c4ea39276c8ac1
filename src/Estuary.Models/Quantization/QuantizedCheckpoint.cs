// Reads quantized modules from a checkpoint into the kernels' layout: AutoAWQ GEMM (qweight/qzeros/scales) and our INT8
// (weight I8 + weight_scale F16). Invariant: values are taken as stored (no requantization), so dequantization matches the file exactly.
using Estuary.Models.Loading;
using Estuary.Tensors;
using Estuary.Tensors.Quantization;

namespace Estuary.Models.Quantization;

/// <summary>Loads quantized linear modules (rows [start, start+count) of a [N, K] module, so fused W_pack splits into q, k, v).</summary>
internal static class QuantizedCheckpoint
{
    /// <summary>Tensor suffixes of AutoAWQ GEMM modules.</summary>
    public const string QWeight = ".qweight", QZeros = ".qzeros", Scales = ".scales";

    /// <summary>Tensor suffixes of our INT8 modules.</summary>
    public const string Int8Weight = ".weight", Int8Scale = ".weight_scale";

    public static unsafe QuantizedWeight LoadAwq(WeightMap map, string module, int n, int k, int groupSize, int start, int count, string name)
    {
        if (n % 8 != 0 || k % groupSize != 0)
            throw new CheckpointException($"AWQ module '{module}' [{n}, {k}]: out features must be a multiple of 8 and in features of the group size {groupSize}");
        int groups = k / groupSize;
        var qweight = map.Tensor(module + QWeight, DType.I32, k, n / 8);     // [K, N/8]
        var qzeros = map.Tensor(module + QZeros, DType.I32, groups, n / 8);  // [K/G, N/8]
        var scales = map.Tensor(module + Scales, DType.F16, groups, n);      // [K/G, N]
        var result = new QuantizedWeight(name, QuantScheme.Int4Group, count, k, groupSize);
        var q = new byte[(long)count * k];     // [count, K] transposed out of [K, N]
        var row = new byte[n];
        int* qw = (int*)qweight.Pointer;
        for (int r = 0; r < k; r++)
        {
            AwqPacking.UnpackRow(new ReadOnlySpan<int>(qw + (long)r * (n / 8), n / 8), row);
            for (int c = 0; c < count; c++) q[(long)c * k + r] = row[start + c];
        }
        var zeros = new byte[(long)groups * n];  // [K/G, N]
        int* qz = (int*)qzeros.Pointer;
        for (int g = 0; g < groups; g++) AwqPacking.UnpackRow(new ReadOnlySpan<int>(qz + (long)g * (n / 8), n / 8), zeros.AsSpan(g * n, n));
        Half* sp = (Half*)scales.Pointer;
        var rowScales = new float[groups];
        var rowZeros = new byte[groups];
        for (int c = 0; c < count; c++)
        {
            for (int g = 0; g < groups; g++)
            {
                rowScales[g] = (float)sp[(long)g * n + start + c];
                rowZeros[g] = zeros[(long)g * n + start + c];
            }
            result.SetRowInt4(c, q.AsSpan((int)((long)c * k), k), rowScales, rowZeros);
        }
        return result;
    }

    public static unsafe QuantizedWeight LoadInt8(WeightMap map, string module, int n, int k, int start, int count, string name)
    {
        var weight = map.Tensor(module + Int8Weight, DType.I8, n, k);  // [N, K]
        var scale = map.Tensor(module + Int8Scale, DType.F16, n);       // [N]
        var result = new QuantizedWeight(name, QuantScheme.Int8PerChannel, count, k, k);
        sbyte* w = (sbyte*)weight.Pointer;
        Half* s = (Half*)scale.Pointer;
        for (int c = 0; c < count; c++)
            result.SetRowInt8(c, new ReadOnlySpan<sbyte>(w + (long)(start + c) * k, k), (float)s[start + c]);
        return result;
    }
}
