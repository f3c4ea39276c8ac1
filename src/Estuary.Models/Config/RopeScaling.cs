// RoPE frequency scaling from config.json's rope_scaling, computed as Hugging Face transformers computes it (modeling_rope_utils.py):
// "default"/null (_compute_default_rope_parameters), "linear" (_compute_linear_scaling_rope_parameters) and "llama3"
// (_compute_llama3_parameters); every other rope type is refused by name. See docs/models.md, "RoPE scaling".
// Invariant: an instance is valid — factor finite and > 0; for llama3 also 0 < low_freq_factor < high_freq_factor, both finite, and
// original_max_position_embeddings > 0 — because the only ways to make one (Parse, Linear, Llama3) check exactly that.
using System.Globalization;
using System.Text.Json.Nodes;

namespace Estuary.Models.Config;

/// <summary>How the RoPE inverse frequencies are scaled (<c>rope_scaling</c> in <c>config.json</c>); <see cref="None"/> when absent.</summary>
public sealed record RopeScaling
{
    private RopeScaling(RopeScalingType type, double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions)
    {
        Type = type;
        Factor = factor;
        LowFreqFactor = lowFreqFactor;
        HighFreqFactor = highFreqFactor;
        OriginalMaxPositions = originalMaxPositions;
    }

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

    /// <summary><c>original_max_position_embeddings</c> (llama3; 0 otherwise): the context length the model was first trained with.</summary>
    public int OriginalMaxPositions { get; }

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
            _ => throw new NotSupportedException($"{source}: rope_scaling type '{type}' is not supported (supported: default, linear, llama3); " +
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
        _ => null,
    };

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

    // The invariant, checked once for both ways in: from a file (InvalidDataException naming the file) or from code.
    private static RopeScaling Checked(RopeScaling s, string? source)
    {
        string? key = null, problem = null;
        if (!(s.Factor > 0 && double.IsFinite(s.Factor)))
            (key, problem) = ("factor", $"must be a finite number greater than 0 (got {Number(s.Factor)})");
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
                _ => "factor",
            };
            throw new ArgumentOutOfRangeException(parameter, message);
        }
        throw new InvalidDataException($"{source}: {message}");
    }

    private static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);
}
