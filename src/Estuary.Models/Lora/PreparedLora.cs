// An adapter opened and checked against a model, its factors already in the backend's layout, but not yet installed in any slot.
// Invariant: building one never touches the model; it owns the adapter's files until LoraSet.Install takes them (or Dispose).
namespace Estuary.Models.Lora;

/// <summary>An adapter ready to install with <see cref="LoraSet.Install"/>; dispose it if it is not installed.</summary>
public sealed class PreparedLora : IDisposable
{
    internal PreparedLora(string name, LoraAdapter adapter, IReadOnlyList<(int SiteIndex, LoraFactors Factors)> factors)
    {
        Name = name;
        Adapter = adapter;
        Factors = factors;
    }

    /// <summary>The name requests will use.</summary>
    public string Name { get; }

    /// <summary>The folder it was read from.</summary>
    public string Directory => Adapter.Directory;

    internal LoraAdapter Adapter { get; }

    /// <summary>Per adapted linear (index into the set's sites): the factors to install.</summary>
    internal IReadOnlyList<(int SiteIndex, LoraFactors Factors)> Factors { get; }

    /// <summary>Set once installed: the set owns the adapter from then on.</summary>
    internal bool Installed { get; set; }

    /// <inheritdoc />
    public void Dispose()
    {
        if (!Installed) Adapter.Dispose();
    }
}
