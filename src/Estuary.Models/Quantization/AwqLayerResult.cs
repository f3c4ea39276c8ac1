// One decoder layer after AWQ: packed AutoAWQ GEMM tensors per module and the norms with the folded 1/s.
namespace Estuary.Models.Quantization;

/// <summary>AWQ output of one layer.</summary>
public sealed record AwqLayerResult(int Layer, Dictionary<string, AwqModule> Modules, Dictionary<string, float[]> Norms);

/// <summary>qweight [K, N/8], qzeros [K/G, N/8], scales [K/G, N] of one module.</summary>
public sealed record AwqModule(int[] QWeight, int[] QZeros, Half[] Scales);
