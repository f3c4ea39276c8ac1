// The optional parts of a Llama-family decoder (Llama, Qwen2, Qwen3, Mistral, Phi-3): linear biases, per-head q/k RMSNorm and sliding-window
// layers, read from config.json the way each architecture's transformers config reads them.
// Invariant: a plain Llama (no attention_bias, mlp_bias or window) gets Llama, whose layers run exactly the code they always ran.
using System.Text.Json.Nodes;

namespace Estuary.Models.Config;

/// <summary>Which optional parts a decoder has.</summary>
/// <param name="QkvBias">q_proj, k_proj and v_proj carry a bias (Qwen2 always; Llama and Qwen3 with <c>attention_bias</c>).</param>
/// <param name="OutputBias">o_proj carries a bias (Llama and Qwen3 with <c>attention_bias</c>; never Qwen2).</param>
/// <param name="MlpBias">gate_proj, up_proj and down_proj carry a bias (Llama's <c>mlp_bias</c>).</param>
/// <param name="QkNorm">q and k are RMS-normalised per head (gain [D], eps <c>rms_norm_eps</c>) before RoPE (Qwen3).</param>
/// <param name="SlidingWindow">W of the sliding-window layers, or 0 when no layer has a window.</param>
/// <param name="SlidingLayers">[L] whether each layer attends through the window (empty when <paramref name="SlidingWindow"/> is 0).</param>
public sealed record DecoderVariant(bool QkvBias, bool OutputBias, bool MlpBias, bool QkNorm, int SlidingWindow, IReadOnlyList<bool> SlidingLayers)
{
    /// <summary>A plain Llama decoder: no biases, no q/k norm, full causal attention everywhere.</summary>
    public static DecoderVariant Llama { get; } = new(false, false, false, false, 0, []);

    /// <summary>The sliding window of <paramref name="layer"/>, or 0 for full causal attention.</summary>
    public int WindowOf(int layer) => SlidingWindow > 0 && SlidingLayers[layer] ? SlidingWindow : 0;

    // Defaults of transformers' Qwen2Config/Qwen3Config and MistralConfig for keys a config.json may leave out.
    private const int QwenDefaultMaxWindowLayers = 28;
    private const int MistralDefaultSlidingWindow = 4096;

    /// <summary>Reads the variant of <paramref name="architecture"/> (one of the Llama family) from <paramref name="json"/>.</summary>
    internal static DecoderVariant Parse(string architecture, JsonObject json, int numLayers, string source)
    {
        var reader = new ConfigReader(json, source);
        switch (architecture)
        {
            case "LlamaForCausalLM":
            {
                bool attentionBias = reader.Bool("attention_bias") ?? false;
                bool mlpBias = reader.Bool("mlp_bias") ?? false;
                return attentionBias || mlpBias ? new(attentionBias, attentionBias, mlpBias, false, 0, []) : Llama;
            }
            case "Qwen2ForCausalLM":
            {
                var (window, layers) = QwenWindow(reader, json, numLayers, source);
                return new(true, false, false, false, window, layers);
            }
            case "Qwen3ForCausalLM":
            {
                bool attentionBias = reader.Bool("attention_bias") ?? false;
                var (window, layers) = QwenWindow(reader, json, numLayers, source);
                return new(attentionBias, attentionBias, false, true, window, layers);
            }
            case "MistralForCausalLM":
            {
                // MistralConfig defaults sliding_window to 4096 when the key is absent; an explicit null turns it off (v0.2, v0.3).
                int? window = json.ContainsKey("sliding_window") ? reader.Int("sliding_window") : MistralDefaultSlidingWindow;
                if (window is null) return Llama;
                PositiveWindow(window.Value, source);
                return new(false, false, false, false, window.Value, [.. Enumerable.Repeat(true, numLayers)]);
            }
            case "Phi3ForCausalLM":
            {
                // Phi3Config: sliding_window (null: none) on every layer, as transformers masks it; no biases.
                int? window = reader.Int("sliding_window");
                if (window is null) return Llama;
                PositiveWindow(window.Value, source);
                return new(false, false, false, false, window.Value, [.. Enumerable.Repeat(true, numLayers)]);
            }
            default:
                return Llama;
        }
    }

    // Qwen2/Qwen3: sliding_window counts only with use_sliding_window; the layers are those layer_types marks "sliding_attention",
    // or, without layer_types, layers max_window_layers and up (transformers' Qwen2Config/Qwen3Config).
    private static (int Window, IReadOnlyList<bool> Layers) QwenWindow(ConfigReader reader, JsonObject json, int numLayers, string source)
    {
        bool use = reader.Bool("use_sliding_window") ?? false;
        int? window = use ? reader.Int("sliding_window") ?? (json.ContainsKey("sliding_window") ? null : (int?)4096) : null;
        var sliding = new bool[numLayers];
        if (json["layer_types"] is { } types)
        {
            if (types is not JsonArray list || list.Count != numLayers)
                throw new InvalidDataException($"{source}: layer_types must be a list of {numLayers} entries (one per layer), got {types.ToJsonString()}");
            for (int l = 0; l < numLayers; l++)
            {
                sliding[l] = (list[l] as JsonValue)?.TryGetValue(out string? type) == true ? type switch
                {
                    "full_attention" => false,
                    "sliding_attention" => true,
                    _ => throw new NotSupportedException($"{source}: layer_types[{l}] '{type}' is not supported (only full_attention and sliding_attention)"),
                } : throw new InvalidDataException($"{source}: layer_types[{l}] must be a string (got {list[l]?.ToJsonString() ?? "null"})");
            }
        }
        else
        {
            int first = reader.Int("max_window_layers") ?? QwenDefaultMaxWindowLayers;
            if (first < 0) throw new InvalidDataException($"{source}: max_window_layers must not be negative (got {first})");
            for (int l = first; l < numLayers; l++) sliding[l] = true;
        }
        if (window is null || !sliding.Contains(true)) return (0, []);
        PositiveWindow(window.Value, source);
        return (window.Value, sliding);
    }

    private static void PositiveWindow(int window, string source)
    {
        if (window <= 0) throw new InvalidDataException($"{source}: sliding_window must be a positive integer or null (got {window})");
    }
}
