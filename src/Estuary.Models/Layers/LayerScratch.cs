// Per-step scratch views for a decoder block, all with T rows, shared by every layer of the model.
using Estuary.Tensors;

namespace Estuary.Models.Layers;

/// <summary>Scratch buffers: Normed/Delta [T, H], Gate/Up/Act [T, I], plus attention scratch.</summary>
public readonly record struct LayerScratch(DeviceTensor Normed, DeviceTensor Delta, DeviceTensor Gate, DeviceTensor Up,
    DeviceTensor Act, AttentionScratch Attention);
