// Token embedding lookup from a [V, H] table in its stored dtype.
using Estuary.Tensors;

namespace Estuary.Models.Layers;

/// <summary>x[T, H] = table[ids].</summary>
public sealed class Embedding(IBackend backend, Weight table)
{
    /// <summary>[V, H].</summary>
    public Weight Table { get; } = table;

    /// <summary>Looks up <paramref name="ids"/> ([T]) into <paramref name="x"/> ([T, H]).</summary>
    public void Forward(ReadOnlySpan<int> ids, DeviceTensor x) => backend.Embedding(Table, ids, x);
}
