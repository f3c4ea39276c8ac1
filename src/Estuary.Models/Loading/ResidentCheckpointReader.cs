// Copies each tensor, once, from a (memory-mapped) checkpoint into process memory on huge pages, and serves the copies.
// Why: file-backed mappings read 1.5–2× slower than anonymous memory when decode streams every weight per token (4 KiB pages,
// page-cache reclaim); the process still holds one copy of the model, and the page cache it read through is the OS's to drop.
// Invariant: a tensor loaded twice (tied embeddings) is copied once; copies live until this reader is disposed.
using Estuary.Tensors;

namespace Estuary.Models.Loading;

/// <summary>An <see cref="ICheckpointReader"/> whose weights live in native memory instead of the mapped file.</summary>
public sealed class ResidentCheckpointReader(ICheckpointReader inner) : ICheckpointReader
{
    private readonly Dictionary<string, Weight> _loaded = new(StringComparer.Ordinal);
    private readonly List<NativeWeightStorage> _storages = [];

    /// <inheritdoc />
    public IReadOnlyList<string> Names => inner.Names;

    /// <inheritdoc />
    public bool Contains(string name) => inner.Contains(name);

    /// <inheritdoc />
    public TensorInfo GetInfo(string name) => inner.GetInfo(name);

    /// <inheritdoc />
    public Weight Load(string name)
    {
        if (_loaded.TryGetValue(name, out var cached)) return cached;
        var view = inner.Load(name);
        var storage = new NativeWeightStorage(view.ByteLength, zeroed: false);
        unsafe
        {
            Buffer.MemoryCopy((void*)view.Pointer, (void*)storage.Pointer, view.ByteLength, view.ByteLength);
        }
        _storages.Add(storage);
        var copy = new Weight(name, view.DType, view.Shape, storage, 0);
        _loaded[name] = copy;
        return copy;
    }

    /// <summary>
    /// Frees the copy of <paramref name="name"/> once nothing uses it any more (the backend rearranged it into memory of its own);
    /// a later <see cref="Load"/> copies it again.
    /// </summary>
    public void Release(string name)
    {
        if (!_loaded.Remove(name, out var w)) return;
        if (w.Storage is NativeWeightStorage s && _storages.Remove(s)) s.Dispose();
    }

    /// <summary>Frees the copies and closes the checkpoint.</summary>
    public void Dispose()
    {
        foreach (var s in _storages) s.Dispose();
        _storages.Clear();
        _loaded.Clear();
        inner.Dispose();
    }
}
