// One decoder layer after AWQ: packed AutoAWQ GEMM tensors per module, and the float tensors the scales were folded into: the norms
// (times 1/s) and, where o's input scales are folded into v's rows, v's bias (divided by the same s).
namespace Estuary.Models.Quantization;

/// <summary>AWQ output of one layer.</summary>
public sealed record AwqLayerResult(int Layer, Dictionary<string, AwqModule> Modules, Dictionary<string, float[]> Folded);

/// <summary>qweight [K, N/8], qzeros [K/G, N/8], scales [K/G, N] of one module.</summary>
public sealed record AwqModule(int[] QWeight, int[] QZeros, Half[] Scales);
