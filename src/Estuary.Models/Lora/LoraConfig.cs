// A PEFT adapter_config.json: rank, alpha, target modules (list or regex), rsLoRA, per-module rank/alpha patterns.
// Invariant: a loaded config has r ≥ 1 and a target rule; per-module scale = alpha/r (alpha/√r with rsLoRA), as PEFT computes it.
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Estuary.Models.Lora;

/// <summary>The settings of a PEFT LoRA adapter that matter for applying it.</summary>
public sealed record LoraConfig
{
    /// <summary>File name of the config inside an adapter folder.</summary>
    public const string FileName = "adapter_config.json";

    /// <summary>Default rank r.</summary>
    public int Rank { get; init; } = 8;
    /// <summary>Default lora_alpha.</summary>
    public float Alpha { get; init; } = 8;
    /// <summary>Module names (matched as a whole name or a dotted suffix); empty when <see cref="TargetRegex"/> is set.</summary>
    public IReadOnlyList<string> TargetModules { get; init; } = [];
    /// <summary>A regex that must match a whole module name (target_modules given as a string).</summary>
    public string? TargetRegex { get; init; }
    /// <summary>rsLoRA: scale alpha/√r instead of alpha/r.</summary>
    public bool UseRslora { get; init; }
    /// <summary>The base layer stores its weight [in, out] (GPT-2 Conv1D), so the delta is transposed.</summary>
    public bool FanInFanOut { get; init; }
    /// <summary>DoRA adapters (not supported: they need a column norm of the merged weight).</summary>
    public bool UseDora { get; init; }
    /// <summary>Per-module rank overrides: pattern → r.</summary>
    public IReadOnlyList<KeyValuePair<string, int>> RankPattern { get; init; } = [];
    /// <summary>Per-module alpha overrides: pattern → alpha.</summary>
    public IReadOnlyList<KeyValuePair<string, float>> AlphaPattern { get; init; } = [];
    /// <summary>Modules trained in full; their saved tensors replace the base ones.</summary>
    public IReadOnlyList<string> ModulesToSave { get; init; } = [];
    /// <summary>"none", "all" or "lora_only": which biases were trained (saved biases replace the base ones).</summary>
    public string Bias { get; init; } = "none";
    /// <summary>Model the adapter was trained on (hub id or path).</summary>
    public string? BaseModelNameOrPath { get; init; }

    /// <summary>Reads <c>adapter_config.json</c> from <paramref name="adapterDir"/>; throws naming the file and field on bad input.</summary>
    public static LoraConfig Load(string adapterDir)
    {
        string path = Path.Combine(adapterDir, FileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: adapter config not found (is '{adapterDir}' a PEFT LoRA adapter folder?)", path);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return Parse(doc.RootElement, path);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e);
        }
    }

    /// <summary>Whether PEFT would put a LoRA on the module named <paramref name="module"/> (e.g. <c>model.layers.0.mlp.up_proj</c>).</summary>
    public bool IsTarget(string module)
    {
        if (TargetRegex != null) return Regex.IsMatch(module, $"^(?:{TargetRegex})$", RegexOptions.CultureInvariant);
        foreach (var t in TargetModules)
        {
            if (module == t || module.EndsWith("." + t, StringComparison.Ordinal)) return true;
        }
        return false;
    }

    /// <summary>The rank the config declares for <paramref name="module"/> (rank_pattern, else r).</summary>
    public int RankFor(string module) => FirstMatch(RankPattern, module, Rank);

    /// <summary>s for <paramref name="module"/>: alpha/r, or alpha/√r with rsLoRA, with the module's own pattern values.</summary>
    public float ScaleFor(string module)
    {
        int r = RankFor(module);
        float alpha = FirstMatch(AlphaPattern, module, Alpha);
        return UseRslora ? alpha / MathF.Sqrt(r) : alpha / r;
    }

    // PEFT's pattern rule: a key matches a module when the module name ends with it at a dot boundary (the key may be a regex).
    private static T FirstMatch<T>(IReadOnlyList<KeyValuePair<string, T>> patterns, string module, T fallback)
    {
        foreach (var (pattern, value) in patterns)
        {
            if (Regex.IsMatch(module, $"^(?:.*\\.)?(?:{pattern})$", RegexOptions.CultureInvariant)) return value;
        }
        return fallback;
    }

    private static LoraConfig Parse(JsonElement root, string path)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object");
        if (root.TryGetProperty("peft_type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() != "LORA")
            throw new InvalidDataException($"{path}: peft_type is '{type.GetString()}'; only LORA adapters are supported");
        var config = new LoraConfig
        {
            Rank = Int(root, "r", 8, path),
            Alpha = Float(root, "lora_alpha", 8, path),
            UseRslora = Bool(root, "use_rslora"),
            FanInFanOut = Bool(root, "fan_in_fan_out"),
            UseDora = Bool(root, "use_dora"),
            RankPattern = Pattern(root, "rank_pattern", path, e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) && v > 0 ? v : throw Bad(path, "rank_pattern", "positive integers")),
            AlphaPattern = Pattern(root, "alpha_pattern", path, e => e.ValueKind == JsonValueKind.Number ? e.GetSingle() : throw Bad(path, "alpha_pattern", "numbers")),
            ModulesToSave = Strings(root, "modules_to_save", path),
            Bias = root.TryGetProperty("bias", out var bias) && bias.ValueKind == JsonValueKind.String ? bias.GetString()! : "none",
            BaseModelNameOrPath = root.TryGetProperty("base_model_name_or_path", out var b) && b.ValueKind == JsonValueKind.String ? b.GetString() : null,
        };
        if (config.Rank < 1) throw Bad(path, "r", "a positive integer");
        if (!root.TryGetProperty("target_modules", out var targets) || targets.ValueKind == JsonValueKind.Null)
            throw new InvalidDataException($"{path}: target_modules is missing; it must list the adapted modules or be a regex");
        if (targets.ValueKind == JsonValueKind.String)
        {
            string regex = targets.GetString()!;
            try
            {
                _ = new Regex(regex);
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{path}: target_modules regex '{regex}' is invalid ({e.Message})", e);
            }
            return config with { TargetRegex = regex };
        }
        return config with { TargetModules = Strings(root, "target_modules", path) };
    }

    private static InvalidDataException Bad(string path, string field, string expected) => new($"{path}: {field} must be {expected}");

    private static int Int(JsonElement root, string name, int fallback, string path) =>
        !root.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null ? fallback
        : e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int v) ? v : throw Bad(path, name, "an integer");

    private static float Float(JsonElement root, string name, float fallback, string path) =>
        !root.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null ? fallback
        : e.ValueKind == JsonValueKind.Number ? e.GetSingle() : throw Bad(path, name, "a number");

    private static bool Bool(JsonElement root, string name) =>
        root.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.True;

    private static string[] Strings(JsonElement root, string name, string path)
    {
        if (!root.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return [];
        if (e.ValueKind != JsonValueKind.Array) throw Bad(path, name, "a list of module names");
        var list = new List<string>();
        foreach (var item in e.EnumerateArray())
            list.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : throw Bad(path, name, "a list of module names"));
        return [.. list];
    }

    private static KeyValuePair<string, T>[] Pattern<T>(JsonElement root, string name, string path, Func<JsonElement, T> value)
    {
        if (!root.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return [];
        if (e.ValueKind != JsonValueKind.Object) throw Bad(path, name, "an object of module pattern → value");
        var list = new List<KeyValuePair<string, T>>();
        foreach (var p in e.EnumerateObject()) list.Add(new(p.Name, value(p.Value)));
        return [.. list];
    }
}
