// Per-step attention scratch buffers (views with T rows of the model's workspace).
using Estuary.Tensors;

namespace Estuary.Models.Layers;

/// <summary>Per-step attention scratch views, each with T rows.</summary>
public readonly record struct AttentionScratch(DeviceTensor Q, DeviceTensor K, DeviceTensor V, DeviceTensor Out);
