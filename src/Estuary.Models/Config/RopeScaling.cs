// RoPE frequency scaling from config.json's rope_scaling, computed as Hugging Face transformers computes it (modeling_rope_utils.py):
// "default"/null (_compute_default_rope_parameters), "linear" (_compute_linear_scaling_rope_parameters), "llama3"
// (_compute_llama3_parameters) and "longrope" (_compute_longrope_parameters, Phi-3's); every other rope type is refused by name.
// See docs/models.md, "RoPE scaling".
// Invariant: an instance is valid — factor finite and > 0; for llama3 also 0 < low_freq_factor < high_freq_factor, both finite, and
// original_max_position_embeddings > 0; for longrope, short and long factors positive and finite, as many of each, and an
// attention factor positive and finite — because the only ways to make one (Parse, Linear, Llama3, LongRope) check exactly that.
using System.Globalization;
using System.Text.Json.Nodes;

namespace Estuary.Models.Config;

/// <summary>How the RoPE inverse frequencies are scaled (<c>rope_scaling</c> in <c>config.json</c>); <see cref="None"/> when absent.</summary>
public sealed record RopeScaling
{
    private RopeScaling(RopeScalingType type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions,
        double[]? shortFactors = null, double[]? longFactors = null, double attentionFactor = 1.0, double? explicitAttentionFactor = null)
    {
        Type = type;
        Factor = factor;
        LowFreqFactor = lowFreqFactor;
        HighFreqFactor = highFreqFactor;
        OriginalMaxPositions = originalMaxPositions;
        _shortFactors = shortFactors ?? [];
        _longFactors = longFactors ?? [];
        AttentionFactor = attentionFactor;
        _explicitAttentionFactor = explicitAttentionFactor;
    }

    private readonly double[] _shortFactors;
    private readonly double[] _longFactors;
    private readonly double? _explicitAttentionFactor; // longrope's rope_scaling.attention_factor, when config.json gives it

    /// <summary>No scaling (<c>rope_scaling</c> null or <c>{"rope_type": "default"}</c>).</summary>
    public static RopeScaling None { get; } = new(RopeScalingType.Default, 1.0, 0, 0, 0);

    /// <summary>The kind of scaling.</summary>
    public RopeScalingType Type { get; }

    /// <summary><c>factor</c>: how much longer the context is than the one trained for (1 for <see cref="RopeScalingType.Default"/>).</summary>
    public double Factor { get; }

    /// <summary><c>low_freq_factor</c> (llama3; 0 otherwise): wavelengths above original/low_freq_factor are divided by the factor.</summary>
    public double LowFreqFactor { get; }

    /// <summary><c>high_freq_factor</c> (llama3; 0 otherwise): wavelengths below original/high_freq_factor are kept.</summary>
    public double HighFreqFactor { get; }

    /// <summary><c>original_max_position_embeddings</c> (llama3, longrope; 0 otherwise): the context length the model was first trained with.</summary>
    public int OriginalMaxPositions { get; }

    /// <summary><c>short_factor</c> (longrope; empty otherwise): per-frequency divisors for positions below the original context.</summary>
    public IReadOnlyList<double> ShortFactors => _shortFactors;

    /// <summary><c>long_factor</c> (longrope; empty otherwise): per-frequency divisors for positions from the original context on.</summary>
    public IReadOnlyList<double> LongFactors => _longFactors;

    /// <summary>
    /// What cos and sin are multiplied by (longrope; 1 otherwise): <c>attention_factor</c> when given, else
    /// √(1 + ln(s)/ln(original)) with s = max_position_embeddings / original_max_position_embeddings (1 when s ≤ 1).
    /// </summary>
    public double AttentionFactor { get; }

    /// <summary>
    /// LongRoPE with its per-frequency factors for a model whose config says <paramref name="maxPositionEmbeddings"/> and was first
    /// trained with <paramref name="originalMaxPositions"/> (which sets the attention factor unless <paramref name="attentionFactor"/> is given).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">a value is out of range (the message names its config key).</exception>
    public static RopeScaling LongRope(IReadOnlyList<double> shortFactors, IReadOnlyList<double> longFactors, int originalMaxPositions,
        int maxPositionEmbeddings, double? attentionFactor = null)
    {
        ArgumentNullException.ThrowIfNull(shortFactors);
        ArgumentNullException.ThrowIfNull(longFactors);
        var raw = new RopeScaling(RopeScalingType.LongRope, 1.0, 0, 0, originalMaxPositions, [.. shortFactors], [.. longFactors], 1.0, attentionFactor);
        return raw.ResolveLongRope(originalMaxPositions, maxPositionEmbeddings, source: null);
    }

    /// <summary>
    /// A longrope scaling completed with the lengths that live at the top of config.json (transformers' Phi-3 rule): the original
    /// context is <paramref name="configOriginal"/> (<c>original_max_position_embeddings</c>) when given, else the one inside
    /// rope_scaling, else <paramref name="maxPositionEmbeddings"/>; the attention factor follows from them (see
    /// <see cref="AttentionFactor"/>). Any other scaling is returned as it is.
    /// </summary>
    /// <exception cref="InvalidDataException">a length that is not positive (the message names the key and file).</exception>
    internal RopeScaling ResolveLongRope(int? configOriginal, int maxPositionEmbeddings, string? source)
    {
        if (Type != RopeScalingType.LongRope) return this;
        int original = configOriginal ?? (OriginalMaxPositions > 0 ? OriginalMaxPositions : maxPositionEmbeddings);
        if (original <= 0 || maxPositionEmbeddings <= 0)
        {
            var message = $"original_max_position_embeddings ({original}) and max_position_embeddings ({maxPositionEmbeddings}) must be positive for longrope";
            if (source is null) throw new ArgumentOutOfRangeException(nameof(maxPositionEmbeddings), message);
            throw new InvalidDataException($"{source}: {message}");
        }
        double scale = (double)maxPositionEmbeddings / original;
        double attention = _explicitAttentionFactor ?? (scale <= 1.0 ? 1.0 : Math.Sqrt(1 + Math.Log(scale) / Math.Log(original)));
        return Checked(new(RopeScalingType.LongRope, 1.0, 0, 0, original, _shortFactors, _longFactors, attention, _explicitAttentionFactor), source);
    }

    /// <summary>Whether <paramref name="other"/> is the same scaling (factor lists compared by value).</summary>
    public bool Equals(RopeScaling? other) =>
        other is not null && Type == other.Type && Factor.Equals(other.Factor) && LowFreqFactor.Equals(other.LowFreqFactor) &&
        HighFreqFactor.Equals(other.HighFreqFactor) && OriginalMaxPositions == other.OriginalMaxPositions &&
        _shortFactors.AsSpan().SequenceEqual(other._shortFactors) && _longFactors.AsSpan().SequenceEqual(other._longFactors) &&
        AttentionFactor.Equals(other.AttentionFactor) && Nullable.Equals(_explicitAttentionFactor, other._explicitAttentionFactor);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Type, Factor, LowFreqFactor, HighFreqFactor, OriginalMaxPositions, _shortFactors.Length, AttentionFactor);

    /// <summary>Linear scaling (position interpolation) by <paramref name="factor"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/> is not a finite number greater than 0.</exception>
    public static RopeScaling Linear(double factor) => Checked(new(RopeScalingType.Linear, factor, 0, 0, 0), source: null);

    /// <summary>Llama 3 scaling with the four keys of its <c>rope_scaling</c> object.</summary>
    /// <exception cref="ArgumentOutOfRangeException">a value is out of range (the message names its config key).</exception>
    public static RopeScaling Llama3(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) =>
        Checked(new(RopeScalingType.Llama3, factor, lowFreqFactor, highFreqFactor, originalMaxPositions), source: null);

    /// <summary>
    /// Reads a <c>rope_scaling</c> value; <paramref name="source"/> names the file in errors. The type is <c>rope_type</c>, or the legacy
    /// key <c>type</c> (both may be given if they agree; transformers' LlamaConfig and its RoPE code disagree on which wins otherwise).
    /// Keys a type does not use are ignored, as transformers ignores them (it only warns).
    /// </summary>
    /// <exception cref="InvalidDataException">not an object, no type, a missing or out-of-range value (the message names the key and file).</exception>
    /// <exception cref="NotSupportedException">a rope type other than <c>default</c>, <c>linear</c> and <c>llama3</c> (named, with the file).</exception>
    public static RopeScaling Parse(JsonNode? node, string source)
    {
        if (node is null) return None;
        if (node is not JsonObject json)
            throw new InvalidDataException($"{source}: rope_scaling must be an object or null (got {node.ToJsonString()})");
        var reader = new ConfigReader(json, source, "rope_scaling.");
        string? ropeType = reader.String("rope_type"), legacyType = reader.String("type");
        if (ropeType != null && legacyType != null && ropeType != legacyType)
            throw new InvalidDataException($"{source}: rope_scaling.rope_type '{ropeType}' and its legacy spelling rope_scaling.type '{legacyType}' disagree");
        string type = ropeType ?? legacyType
            ?? throw new InvalidDataException($"{source}: rope_scaling {json.ToJsonString()} has no 'rope_type' (or legacy 'type')");
        return type switch
        {
            "default" => None,
            "linear" => Checked(new(RopeScalingType.Linear, reader.RequiredDouble("factor"), 0, 0, 0), source),
            "llama3" => Checked(new(RopeScalingType.Llama3, reader.RequiredDouble("factor"), reader.RequiredDouble("low_freq_factor"),
                reader.RequiredDouble("high_freq_factor"), reader.RequiredInt("original_max_position_embeddings")), source),
            // Lengths and the attention factor are completed by ResolveLongRope, which sees the top of config.json.
            "longrope" or "su" => new(RopeScalingType.LongRope, 1.0, 0, 0, reader.Int("original_max_position_embeddings") ?? 0,
                Factors(json, "short_factor", source), Factors(json, "long_factor", source), 1.0, reader.Double("attention_factor")),
            _ => throw new NotSupportedException($"{source}: rope_scaling type '{type}' is not supported (supported: default, linear, llama3, longrope); " +
                "positions would be rotated unscaled and the logits would be wrong"),
        };
    }

    /// <summary>The <c>rope_scaling</c> value of a <c>config.json</c> with this scaling (null for <see cref="None"/>), keys as Llama 3 configs write them.</summary>
    public JsonObject? ToJson() => Type switch
    {
        RopeScalingType.Linear => new JsonObject { ["factor"] = Factor, ["rope_type"] = "linear" },
        RopeScalingType.Llama3 => new JsonObject
        {
            ["factor"] = Factor,
            ["high_freq_factor"] = HighFreqFactor,
            ["low_freq_factor"] = LowFreqFactor,
            ["original_max_position_embeddings"] = OriginalMaxPositions,
            ["rope_type"] = "llama3",
        },
        RopeScalingType.LongRope => new JsonObject
        {
            ["long_factor"] = new JsonArray([.. _longFactors.Select(f => (JsonNode?)f)]),
            ["short_factor"] = new JsonArray([.. _shortFactors.Select(f => (JsonNode?)f)]),
            ["type"] = "longrope",
        },
        _ => null,
    };

    // A list of numbers under key (longrope's factors); positivity is checked with the rest of the invariant.
    private static double[] Factors(JsonObject json, string key, string source)
    {
        if (json[key] is not JsonArray list || list.Count == 0)
            throw new InvalidDataException($"{source}: rope_scaling.{key} must be a non-empty list of numbers (got {json[key]?.ToJsonString() ?? "nothing"})");
        var result = new double[list.Count];
        for (int i = 0; i < list.Count; i++)
        {
            if (list[i] is not JsonValue v || !v.TryGetValue(out double d))
                throw new InvalidDataException($"{source}: rope_scaling.{key}[{i}] must be a number (got {list[i]?.ToJsonString() ?? "null"})");
            result[i] = d;
        }
        return result;
    }

    /// <summary>
    /// The scaled copy of <paramref name="inverseFrequencies"/> (θ_j, j &lt; D/2, from <c>Estuary.Tensors.RopeTable.DefaultInverseFrequencies</c>).
    /// Like transformers, every step is float32 arithmetic on the float32 frequencies, with the config's numbers converted to float32
    /// where they meet them, so the result is transformers' to the bit for the same input frequencies.
    /// <list type="bullet">
    /// <item>Default: unchanged.</item>
    /// <item>Linear: θ_j / factor (the rotation at position p is the unscaled one at p / factor).</item>
    /// <item>Llama3: with wavelength λ = 2π/θ_j, original length L, λ_low = L/low_freq_factor and λ_high = L/high_freq_factor:
    /// λ &gt; λ_low ⇒ θ_j / factor; λ &lt; λ_high ⇒ θ_j; otherwise (both ends included) s = (L/λ − low) / (high − low) and
    /// (1 − s)·θ_j / factor + s·θ_j. The blend is 0 at λ_low and 1 at λ_high, so the bands meet without a step and which side an
    /// exact boundary falls on changes the result by rounding only. With factor 1 every frequency stays what it was (up to one float32
    /// rounding in the blended band, as in transformers).</item>
    /// </list>
    /// </summary>
    public float[] ScaleInverseFrequencies(ReadOnlySpan<float> inverseFrequencies)
    {
        var result = inverseFrequencies.ToArray();
        float factor = (float)Factor;
        if (Type == RopeScalingType.LongRope) return DivideByFactors(result, _shortFactors);
        if (Type == RopeScalingType.Linear)
        {
            for (int j = 0; j < result.Length; j++) result[j] /= factor;
        }
        else if (Type == RopeScalingType.Llama3)
        {
            float twoPi = (float)(2 * Math.PI);
            float lowFreqWavelen = (float)(OriginalMaxPositions / LowFreqFactor);
            float highFreqWavelen = (float)(OriginalMaxPositions / HighFreqFactor);
            float original = OriginalMaxPositions, low = (float)LowFreqFactor, span = (float)(HighFreqFactor - LowFreqFactor);
            for (int j = 0; j < result.Length; j++)
            {
                float inv = result[j];
                float wavelen = twoPi / inv;
                if (wavelen > lowFreqWavelen)
                {
                    result[j] = inv / factor;
                }
                else if (!(wavelen < highFreqWavelen))
                {
                    float smooth = (float)((float)(original / wavelen) - low) / span;
                    float scaled = (float)((float)(1 - smooth) * inv) / factor;
                    result[j] = scaled + (float)(smooth * inv);
                }
            }
        }
        return result;
    }

    /// <summary>
    /// LongRoPE's frequencies from the original context on: θ_j / long_factor[j] (float32, as transformers divides); null for
    /// every other scaling, whose frequencies do not depend on the position.
    /// </summary>
    public float[]? LongInverseFrequencies(ReadOnlySpan<float> inverseFrequencies) =>
        Type == RopeScalingType.LongRope ? DivideByFactors(inverseFrequencies.ToArray(), _longFactors) : null;

    private static float[] DivideByFactors(float[] inverseFrequencies, double[] factors)
    {
        if (factors.Length != inverseFrequencies.Length)
            throw new InvalidDataException($"rope_scaling has {factors.Length} longrope factors but the rotary dimension needs {inverseFrequencies.Length} " +
                "(one per pair of rotated dimensions: head_dim × partial_rotary_factor / 2)");
        for (int j = 0; j < inverseFrequencies.Length; j++) inverseFrequencies[j] /= (float)factors[j];
        return inverseFrequencies;
    }

    // The invariant, checked once for both ways in: from a file (InvalidDataException naming the file) or from code.
    private static RopeScaling Checked(RopeScaling s, string? source)
    {
        string? key = null, problem = null;
        if (!(s.Factor > 0 && double.IsFinite(s.Factor)))
            (key, problem) = ("factor", $"must be a finite number greater than 0 (got {Number(s.Factor)})");
        else if (s.Type == RopeScalingType.LongRope)
        {
            if (s._shortFactors.Length != s._longFactors.Length)
                (key, problem) = ("long_factor", $"must have as many entries as rope_scaling.short_factor ({s._longFactors.Length} and {s._shortFactors.Length})");
            else if (s._shortFactors.Concat(s._longFactors).Any(f => !(f > 0 && double.IsFinite(f))))
                (key, problem) = (s._shortFactors.Any(f => !(f > 0 && double.IsFinite(f))) ? "short_factor" : "long_factor", "must hold finite numbers greater than 0");
            else if (!(s.AttentionFactor > 0 && double.IsFinite(s.AttentionFactor)))
                (key, problem) = ("attention_factor", $"must be a finite number greater than 0 (got {Number(s.AttentionFactor)})");
        }
        else if (s.Type == RopeScalingType.Llama3)
        {
            if (!(s.LowFreqFactor > 0 && double.IsFinite(s.LowFreqFactor)))
                (key, problem) = ("low_freq_factor", $"must be a finite number greater than 0 (got {Number(s.LowFreqFactor)})");
            else if (!(s.HighFreqFactor > s.LowFreqFactor && double.IsFinite(s.HighFreqFactor)))
                (key, problem) = ("high_freq_factor", $"must be a finite number greater than rope_scaling.low_freq_factor " +
                    $"(got {Number(s.HighFreqFactor)} and {Number(s.LowFreqFactor)})");
            else if (s.OriginalMaxPositions <= 0)
                (key, problem) = ("original_max_position_embeddings", $"must be positive (got {s.OriginalMaxPositions})");
        }
        if (key is null) return s;
        string message = $"rope_scaling.{key} {problem}";
        if (source is null)
        {
            string parameter = key switch
            {
                "low_freq_factor" => "lowFreqFactor",
                "high_freq_factor" => "highFreqFactor",
                "original_max_position_embeddings" => "originalMaxPositions",
                "short_factor" => "shortFactors",
                "long_factor" => "longFactors",
                "attention_factor" => "attentionFactor",
                _ => "factor",
            };
            throw new ArgumentOutOfRangeException(parameter, message);
        }
        throw new InvalidDataException($"{source}: {message}");
    }

    private static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);
}
