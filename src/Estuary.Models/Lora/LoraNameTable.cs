// An immutable adapter name → id map with the names in id order. LoraSet swaps in a new table on every change, so threads that only
// read (request validation, /v1/models) see one consistent table without locks.
namespace Estuary.Models.Lora;

/// <summary>A snapshot of which adapter name holds which slot.</summary>
internal sealed class LoraNameTable
{
    private readonly Dictionary<string, int> _ids;

    private LoraNameTable(Dictionary<string, int> ids)
    {
        _ids = ids;
        Names = [.. ids.OrderBy(p => p.Value).Select(p => p.Key)];
    }

    /// <summary>No adapters.</summary>
    public static LoraNameTable Empty { get; } = new(new Dictionary<string, int>(StringComparer.Ordinal));

    /// <summary>Slot id by name.</summary>
    public IReadOnlyDictionary<string, int> Ids => _ids;

    /// <summary>Names in id order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>This table plus <paramref name="name"/> at <paramref name="id"/>.</summary>
    public LoraNameTable With(string name, int id) => new(new Dictionary<string, int>(_ids, StringComparer.Ordinal) { [name] = id });

    /// <summary>This table without <paramref name="name"/>.</summary>
    public LoraNameTable Without(string name)
    {
        var ids = new Dictionary<string, int>(_ids, StringComparer.Ordinal);
        ids.Remove(name);
        return new(ids);
    }
}
