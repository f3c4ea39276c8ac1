// The LoRA adapters served unmerged by one model: opens them by name, checks them against the model, wraps the adapted linears, and
// (when built for runtime updating) installs and removes adapters in fixed slots without editing the model graph again.
// Invariant: adapter ids are slots 1..NumSlots (0 = the base model); an adapter's factors are in every linear it adapts or in none;
// every install gets a cache key never used before in this set; a slot's weight files stay mapped until Remove or Dispose.
// Install and Remove must run between forward passes (the engine thread does); names and ids are readable from any thread.
using Estuary.Models.Layers;
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models.Lora;

/// <summary>Named adapters attached to a model; a request picks one by name (or none for the base model).</summary>
public sealed class LoraSet : IDisposable
{
    private readonly CausalLm _model;
    private readonly IReadOnlyList<LinearSite> _sites;
    private readonly bool _modelDType;
    private readonly LoraAdapter?[] _slots;   // [NumSlots + 1]: the adapter holding each slot (named or draining); index 0 unused
    private readonly long[] _cacheKeys;       // [NumSlots + 1]: the current occupant's cache key
    private volatile LoraNameTable _names = LoraNameTable.Empty;
    private long _lastCacheKey;
    private bool _sealed;                      // a fixed set after Attach: no further installs

    private LoraSet(CausalLm model, IReadOnlyList<LinearSite> sites, int numSlots, bool modelDType, bool acceptsNewAdapters)
    {
        _model = model;
        _sites = sites;
        _modelDType = modelDType;
        _slots = new LoraAdapter?[numSlots + 1];
        _cacheKeys = new long[numSlots + 1];
        AcceptsNewAdapters = acceptsNewAdapters;
    }

    /// <summary>Adapter names in id order.</summary>
    public IReadOnlyList<string> Names => _names.Names;

    /// <summary>Number of named adapters.</summary>
    public int Count => _names.Names.Count;

    /// <summary>Most adapters held at once (named ones plus unloaded ones still draining).</summary>
    public int NumSlots => _slots.Length - 1;

    /// <summary>Whether adapters can be installed after <see cref="Attach"/> (every projection was wrapped up front).</summary>
    public bool AcceptsNewAdapters { get; }

    /// <summary>The id of adapter <paramref name="name"/> (1-based slot), or false when no adapter has that name.</summary>
    public bool TryGetId(string name, out int id) => _names.Ids.TryGetValue(name, out id);

    /// <summary>
    /// The prefix-cache identity of the adapter now in slot <paramref name="id"/>: unique among every adapter this set ever held, so
    /// KV cached under an unloaded adapter is never reused by a later one in the same slot.
    /// </summary>
    public long CacheKey(int id) => _cacheKeys[id];

    /// <summary>
    /// Opens each adapter (name → folder), checks that it fits <paramref name="model"/>, and wraps every adapted linear in a
    /// LoRA linear. Only attention and MLP projections can be served unmerged; adapters with full replacement tensors
    /// (modules_to_save, biases) or fan_in_fan_out must be merged instead. On failure the model is left unchanged.
    /// </summary>
    /// <param name="modelDType">Serve the factors in the base weights' dtype (vLLM's <c>--lora-dtype auto</c>): an F32 adapter on a
    /// BF16 model streams half the bytes per step, at the cost of rounding the factors; off by default (factors as stored, exact).</param>
    /// <param name="runtimeSlots">When set, every attention and MLP projection is wrapped now with this many slots, so adapters can be
    /// installed and removed later (runtime LoRA updating); when null the set is fixed and only the adapted linears are wrapped.</param>
    public static LoraSet Attach(CausalLm model, IReadOnlyList<KeyValuePair<string, string>> adapters, bool modelDType = false, int? runtimeSlots = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(adapters);
        if (runtimeSlots is < 1) throw new ArgumentOutOfRangeException(nameof(runtimeSlots), "max_loras must be positive");
        if (runtimeSlots is { } n && adapters.Count > n)
            throw new ArgumentException($"{adapters.Count} LoRA adapters requested but max_loras is {n}");
        var set = new LoraSet(model, LoraWeightMap.Sites(model), runtimeSlots ?? adapters.Count, modelDType, runtimeSlots.HasValue);
        var prepared = new List<PreparedLora>();
        try
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, dir) in adapters)
            {
                if (!string.IsNullOrWhiteSpace(name) && !names.Add(name)) throw new ArgumentException($"LoRA adapter name '{name}' is used twice");
                prepared.Add(set.Prepare(name, dir));
            }
            var adapted = new bool[set._sites.Count];
            foreach (var p in prepared) foreach (var (site, _) in p.Factors) adapted[site] = true;
            var workspace = new LoraWorkspace(model.Backend);
            for (int i = 0; i < set._sites.Count; i++)
            {
                if (!adapted[i] && !set.AcceptsNewAdapters) continue;
                var site = set._sites[i];
                site.Set(new LoraLinear(model.Backend, site.Get(), new LoraFactors?[set.NumSlots + 1], workspace));
            }
            foreach (var p in prepared) set.Install(p);
            set._sealed = !set.AcceptsNewAdapters;
            return set;
        }
        catch
        {
            foreach (var p in prepared) p.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens the adapter in <paramref name="dir"/> and checks it against the model without changing anything (safe on any thread while
    /// the model runs). Throws naming the problem: <see cref="ArgumentException"/> for the name, file, format and shape errors otherwise.
    /// </summary>
    public PreparedLora Prepare(string name, string dir)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException($"LoRA adapter at '{dir}' needs a non-empty name", nameof(name));
        if (_names.Ids.ContainsKey(name)) throw new ArgumentException($"a LoRA adapter named '{name}' is already loaded", nameof(name));
        var adapter = LoraAdapter.Open(dir);
        try
        {
            CheckServable(name, adapter);
            return new PreparedLora(name, adapter, Plan(name, adapter));
        }
        catch
        {
            adapter.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Installs <paramref name="lora"/> in the lowest free slot and returns its id; the set then owns it. Call between forward passes.
    /// Throws <see cref="ArgumentException"/> when the name is taken and <see cref="InvalidOperationException"/> when every slot is
    /// held or the set is fixed; then nothing changed.
    /// </summary>
    public int Install(PreparedLora lora)
    {
        ArgumentNullException.ThrowIfNull(lora);
        if (_sealed) throw new InvalidOperationException("LoRA adapters were fixed at start; runtime LoRA updating is off");
        if (lora.Installed) throw new InvalidOperationException($"LoRA adapter '{lora.Name}' is already installed");
        var names = _names;
        if (names.Ids.ContainsKey(lora.Name)) throw new ArgumentException($"a LoRA adapter named '{lora.Name}' is already loaded", "name");
        int id = Array.IndexOf(_slots, null, 1);
        if (id < 0)
        {
            int draining = NumSlots - names.Names.Count;
            throw new InvalidOperationException($"max_loras ({NumSlots}) adapters are already loaded" +
                (draining > 0 ? $" ({draining} unloaded but still finishing requests)" : "") + "; unload one first");
        }
        // Check every target before writing any: an adapter is installed everywhere or nowhere.
        var linears = new LoraLinear[lora.Factors.Count];
        for (int i = 0; i < linears.Length; i++)
        {
            int site = lora.Factors[i].SiteIndex;
            linears[i] = _sites[site].Get() as LoraLinear
                ?? throw new InvalidOperationException($"'{_sites[site].Module}' was not wrapped for LoRA at start; runtime LoRA updating is off");
        }
        for (int i = 0; i < linears.Length; i++) linears[i].Slots[id] = lora.Factors[i].Factors;
        _slots[id] = lora.Adapter;
        _cacheKeys[id] = ++_lastCacheKey;
        lora.Installed = true;
        _names = names.With(lora.Name, id);
        return id;
    }

    /// <summary>
    /// Removes the name <paramref name="name"/> at once (new requests cannot pick it); its slot stays held until <see cref="Remove"/>.
    /// Returns false when no adapter has that name.
    /// </summary>
    public bool Forget(string name, out int id)
    {
        var names = _names;
        if (!names.Ids.TryGetValue(name, out id)) return false;
        _names = names.Without(name);
        return true;
    }

    /// <summary>Whether slot <paramref name="id"/> holds an adapter whose name was forgotten (it waits for <see cref="Remove"/>).</summary>
    public bool IsDraining(int id) => _slots[id] is not null && NameOf(id) is null;

    // The name now holding slot id, if any (the name table is the one record of names; at most max_loras entries).
    private string? NameOf(int id)
    {
        foreach (var (name, slot) in _names.Ids)
            if (slot == id) return name;
        return null;
    }

    /// <summary>Frees slot <paramref name="id"/>: clears its factors everywhere and closes its files. Call between forward passes, once
    /// no request uses it.</summary>
    public void Remove(int id)
    {
        if (_slots[id] is not { } adapter) return;
        foreach (var site in _sites)
            if (site.Get() is LoraLinear linear) linear.Slots[id] = null;
        if (NameOf(id) is { } name) Forget(name, out _);
        _slots[id] = null;
        adapter.Dispose();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var a in _slots) a?.Dispose();
    }

    private static void CheckServable(string name, LoraAdapter adapter)
    {
        if (adapter.ReplacedTensors.Count > 0)
            throw new NotSupportedException($"LoRA adapter '{name}' saves full tensors ({string.Join(", ", adapter.ReplacedTensors.Keys.Take(3))}; " +
                "modules_to_save or trained biases), which cannot be shared with the base model; merge it with `estuary merge-lora` instead");
        if (adapter.Config.FanInFanOut || adapter.Modules.Values.Any(m => m.Transposed))
            throw new NotSupportedException($"LoRA adapter '{name}' adapts a weight stored [in, out] (fan_in_fan_out or an embedding); merge it instead");
    }

    // A factor as served: in the backend's matmul layout, and when asked in the base weight's dtype (vLLM's lora_dtype "auto": an
    // F32 adapter on a BF16 model is read as BF16, halving the bytes every decode step streams). Quantized bases keep the stored dtype.
    // A fused W_pack's lora_A serves the q, k and v sites: it is prepared once (cache keyed by the adapter's tensor).
    private Weight Serving(Weight factor, ILinear linear, Dictionary<Weight, Weight> prepared)
    {
        if (prepared.TryGetValue(factor, out var done)) return done;
        var dtype = _modelDType && linear is Linear { Weight.DType: var d } ? d : factor.DType;
        var w = factor.DType == dtype ? factor : FloatRows.Convert(factor, dtype);
        return prepared[factor] = _model.Backend.PrepareLinear(w);
    }

    // The adapter's factors for every site it adapts. Checks coverage and shapes against the base linears (unwrapped) first.
    private List<(int SiteIndex, LoraFactors Factors)> Plan(string name, LoraAdapter adapter)
    {
        var plan = new List<(int, LoraFactors)>();
        var prepared = new Dictionary<Weight, Weight>(ReferenceEqualityComparer.Instance);
        var known = _sites.Select(x => x.Module).ToHashSet(StringComparer.Ordinal);
        var extra = adapter.Modules.Keys.FirstOrDefault(k => !known.Contains(k));
        if (extra != null)
            throw new CheckpointException($"LoRA adapter '{name}' adapts '{extra}', which is not an attention or MLP projection of this model " +
                $"({_model.Config.Architecture}, {_model.Config.NumLayers} layers); unmerged serving supports those only — merge the adapter instead");
        for (int s = 0; s < _sites.Count; s++)
        {
            var site = _sites[s];
            ILinear linear = site.Get() is LoraLinear wrapped ? wrapped.Inner : site.Get();
            if (!adapter.Modules.TryGetValue(site.Module, out var m))
            {
                if (adapter.Config.IsTarget(site.Module))
                    throw new CheckpointException($"LoRA adapter '{name}' targets '{site.Module}' but has no lora_A/lora_B for it (trained on another model?)");
                continue;
            }
            if (m.A.Cols != linear.InFeatures || m.B.Rows != site.ModuleRows)
                throw new CheckpointException($"LoRA adapter '{name}': shape mismatch for '{site.Module}': lora_A {m.A.Shape} and lora_B {m.B.Shape} " +
                    $"do not fit the model's [{site.ModuleRows}, {linear.InFeatures}] weight");
            var b = site.RowStart == 0 && linear.OutFeatures == site.ModuleRows ? m.B : m.B.SliceRows(site.RowStart, linear.OutFeatures);
            plan.Add((s, new LoraFactors(Serving(m.A, linear, prepared), Serving(b, linear, prepared), m.Scale)));
        }
        return plan;
    }
}
