// Read-only access to the tensors of a checkpoint (one file or a sharded set), by checkpoint name.
// Invariant: weights returned by Load stay valid until the reader is disposed; nothing is copied when the format allows a view.
using Estuary.Tensors;

namespace Estuary.Models.Loading;

/// <summary>Name, dtype and shape of a stored tensor.</summary>
public sealed record TensorInfo(string Name, DType DType, Shape Shape);

/// <summary>Tensors of a checkpoint by name.</summary>
public interface ICheckpointReader : IDisposable
{
    /// <summary>All tensor names, in storage order.</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>Whether a tensor exists.</summary>
    bool Contains(string name);

    /// <summary>Dtype and shape of a tensor; throws <see cref="CheckpointException"/> naming it if missing.</summary>
    TensorInfo GetInfo(string name);

    /// <summary>The tensor as a weight (a view of mapped memory when possible); throws <see cref="CheckpointException"/> naming it if missing.</summary>
    Weight Load(string name);
}
