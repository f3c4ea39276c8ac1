// The LoRA adapters served unmerged by one model: loads them by name, checks them against the model, and wraps the adapted linears.
// Invariant: adapter ids are 1..n in load order (0 = the base model); the adapters' weight files stay mapped until Dispose.
using Estuary.Models.Layers;
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models.Lora;

/// <summary>Named adapters attached to a model; a request picks one by name (or none for the base model).</summary>
public sealed class LoraSet : IDisposable
{
    private readonly LoraAdapter[] _adapters;
    private readonly Dictionary<string, int> _ids;

    private LoraSet(LoraAdapter[] adapters, Dictionary<string, int> ids)
    {
        _adapters = adapters;
        _ids = ids;
        Names = [.. ids.OrderBy(p => p.Value).Select(p => p.Key)];
    }

    /// <summary>Adapter names in id order (id = index + 1).</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Number of adapters.</summary>
    public int Count => _adapters.Length;

    /// <summary>The id of adapter <paramref name="name"/> (1-based), or false when no adapter has that name.</summary>
    public bool TryGetId(string name, out int id) => _ids.TryGetValue(name, out id);

    /// <summary>
    /// Opens each adapter (name → folder), checks that it fits <paramref name="model"/>, and wraps every adapted linear in a
    /// LoRA linear. Only attention and MLP projections can be served unmerged; adapters with full replacement tensors
    /// (modules_to_save, biases) or fan_in_fan_out must be merged instead. On failure the model is left unchanged.
    /// </summary>
    /// <param name="modelDType">Serve the factors in the base weights' dtype (vLLM's <c>--lora-dtype auto</c>): an F32 adapter on a
    /// BF16 model streams half the bytes per step, at the cost of rounding the factors; off by default (factors as stored, exact).</param>
    public static LoraSet Attach(CausalLm model, IReadOnlyList<KeyValuePair<string, string>> adapters, bool modelDType = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(adapters);
        var opened = new List<LoraAdapter>();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, dir) in adapters)
            {
                if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException($"LoRA adapter at '{dir}' needs a non-empty name");
                if (!ids.TryAdd(name, opened.Count + 1)) throw new ArgumentException($"LoRA adapter name '{name}' is used twice");
                var adapter = LoraAdapter.Open(dir);
                opened.Add(adapter);
                CheckServable(name, adapter);
            }
            var sites = LoraWeightMap.Sites(model);
            var plan = Plan(model, sites, opened, ids, modelDType);
            var workspace = new LoraWorkspace(model.Backend);
            foreach (var (site, factors) in plan) site.Set(new LoraLinear(model.Backend, site.Get(), factors, workspace));
            return new LoraSet([.. opened], ids);
        }
        catch
        {
            foreach (var a in opened) a.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var a in _adapters) a.Dispose();
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
    private static Weight Serving(IBackend backend, Weight factor, ILinear linear, bool modelDType, Dictionary<Weight, Weight> prepared)
    {
        if (prepared.TryGetValue(factor, out var done)) return done;
        var dtype = modelDType && linear is Linear { Weight.DType: var d } ? d : factor.DType;
        var w = factor.DType == dtype ? factor : FloatRows.Convert(factor, dtype);
        return prepared[factor] = backend.PrepareLinear(w);
    }

    // For every site some adapter touches: the factors per adapter id (index 0 unused). Checks shapes and coverage first.
    private static List<(LinearSite Site, LoraFactors?[] Factors)> Plan(CausalLm model, IReadOnlyList<LinearSite> sites,
        List<LoraAdapter> adapters, Dictionary<string, int> ids, bool modelDType)
    {
        var names = ids.OrderBy(p => p.Value).Select(p => p.Key).ToArray();
        var plan = new List<(LinearSite, LoraFactors?[])>();
        var prepared = new Dictionary<Weight, Weight>(ReferenceEqualityComparer.Instance);
        var known = sites.Select(x => x.Module).ToHashSet(StringComparer.Ordinal);
        for (int i = 0; i < adapters.Count; i++)
        {
            var extra = adapters[i].Modules.Keys.FirstOrDefault(k => !known.Contains(k));
            if (extra != null)
                throw new CheckpointException($"LoRA adapter '{names[i]}' adapts '{extra}', which is not an attention or MLP projection of this model " +
                    $"({model.Config.Architecture}, {model.Config.NumLayers} layers); unmerged serving supports those only — merge the adapter instead");
        }
        foreach (var site in sites)
        {
            ILinear linear = site.Get();
            LoraFactors?[]? factors = null;
            for (int i = 0; i < adapters.Count; i++)
            {
                if (!adapters[i].Modules.TryGetValue(site.Module, out var m))
                {
                    if (adapters[i].Config.IsTarget(site.Module))
                        throw new CheckpointException($"LoRA adapter '{names[i]}' targets '{site.Module}' but has no lora_A/lora_B for it (trained on another model?)");
                    continue;
                }
                if (m.A.Cols != linear.InFeatures || m.B.Rows != site.ModuleRows)
                    throw new CheckpointException($"LoRA adapter '{names[i]}': shape mismatch for '{site.Module}': lora_A {m.A.Shape} and lora_B {m.B.Shape} " +
                        $"do not fit the model's [{site.ModuleRows}, {linear.InFeatures}] weight");
                var b = site.RowStart == 0 && linear.OutFeatures == site.ModuleRows ? m.B : m.B.SliceRows(site.RowStart, linear.OutFeatures);
                (factors ??= new LoraFactors?[adapters.Count + 1])[i + 1] =
                    new LoraFactors(Serving(model.Backend, m.A, linear, modelDType, prepared), Serving(model.Backend, b, linear, modelDType, prepared), m.Scale);
            }
            if (factors != null) plan.Add((site, factors));
        }
        return plan;
    }
}
