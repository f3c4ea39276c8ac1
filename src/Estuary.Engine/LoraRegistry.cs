// The engine's side of its LoRA adapters: resolves a request's adapter name to a slot, counts the unfinished requests per slot, and
// loads and unloads adapters at run time. Invariant: an unloaded adapter's name disappears at once, but its slot (factors and
// files) is freed only when no unfinished request uses it, so a running request never sees its factors replaced or disposed.
// Only Prepare and the name lookups are thread-safe; everything else runs on the engine thread, between steps.
using System.Text.Json;
using Estuary.Models.Loading;
using Estuary.Models.Lora;

namespace Estuary.Engine;

/// <summary>Named adapters with per-slot request counts; null set = no adapters and no runtime updating.</summary>
internal sealed class LoraRegistry(LoraSet? set) : IDisposable
{
    private readonly int[] _users = new int[(set?.NumSlots ?? 0) + 1]; // [slot]: unfinished requests using it

    public LoraSet? Set => set;

    public IReadOnlyList<string> Names => set?.Names ?? [];

    public int Count => set?.Count ?? 0;

    public bool AcceptsNewAdapters => set?.AcceptsNewAdapters ?? false;

    public bool Contains(string name) => set is not null && set.TryGetId(name, out _);

    /// <summary>The slot and cache key of adapter <paramref name="name"/> (null or unknown: the base model, (0, 0)).</summary>
    public (int Id, long CacheKey) Resolve(string? name) =>
        name is not null && set is not null && set.TryGetId(name, out int id) ? (id, set.CacheKey(id)) : (0, 0);

    /// <summary>A request of slot <paramref name="id"/> was queued; the slot stays held until it is released.</summary>
    public void AddUser(int id)
    {
        if (id != 0) _users[id]++;
    }

    /// <summary>A request of slot <paramref name="id"/> finished; frees the slot when it was the last user of an unloaded adapter.</summary>
    public void Release(int id)
    {
        if (id == 0 || set is null) return;
        if (--_users[id] == 0 && set.IsDraining(id)) set.Remove(id);
    }

    /// <summary>
    /// Opens and checks an adapter off the engine thread. Throws <see cref="ArgumentException"/> whose ParamName is "name" (empty or
    /// taken) or "dir" (missing folder, bad files, does not fit the model), or <see cref="InvalidOperationException"/> when runtime
    /// updating is off.
    /// </summary>
    public PreparedLora Prepare(string name, string dir)
    {
        if (set is not { AcceptsNewAdapters: true }) throw RuntimeUpdatingOff();
        ArgumentException.ThrowIfNullOrWhiteSpace(dir);
        try
        {
            return set.Prepare(name, dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or CheckpointException
            or NotSupportedException or JsonException or FormatException)
        {
            throw new ArgumentException(e.Message, nameof(dir), e);
        }
    }

    /// <summary>Installs a prepared adapter (engine thread, between steps); on failure nothing changed and <paramref name="lora"/> is disposed.</summary>
    public void Install(PreparedLora lora)
    {
        if (set is null) throw RuntimeUpdatingOff();
        try
        {
            set.Install(lora);
        }
        catch
        {
            lora.Dispose();
            throw;
        }
    }

    /// <summary>Unloads <paramref name="name"/> (engine thread): the name is gone at once, the slot once its requests finish.</summary>
    public bool Unload(string name)
    {
        if (set is null || !set.Forget(name, out int id)) return false;
        if (_users[id] == 0) set.Remove(id);
        return true;
    }

    public void Dispose() => set?.Dispose();

    private static InvalidOperationException RuntimeUpdatingOff() =>
        new("runtime LoRA updating is off (EngineConfig.EnableRuntimeLoraUpdating, `estuary serve --enable-runtime-lora-updating`)");
}
