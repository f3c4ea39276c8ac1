// Writes a random PEFT LoRA adapter (adapter_config.json + F32 adapter_model.safetensors) for a model folder, for benchmarks.
// Invariant: key names, shapes and config are exactly what PEFT writes for a causal LM, so merge-lora and --lora read it as a real one;
// the tensors depend only on (seed, tensor name), so the same seed writes the same adapter in every process; rank and alpha are checked
// before any work, and the folder is built beside the target and renamed into place (a failure leaves no folder or partial adapter).
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Estuary.Models.Config;
using Estuary.Models.Loading;
using Estuary.Tensors;

namespace Estuary.Models.Synthetic;

/// <summary>Random LoRA adapters at a model's shapes.</summary>
public static class RandomLoraWriter
{
    /// <summary>
    /// Writes an adapter of rank <paramref name="rank"/> targeting every attention and MLP projection of the model in
    /// <paramref name="modelDir"/> (Baichuan: W_pack, o_proj, gate/up/down_proj; Llama: q/k/v/o_proj, gate/up/down_proj; Phi-3:
    /// qkv_proj, o_proj, gate_up_proj, down_proj).
    /// A ~ N(0, 1/K), B ~ N(0, 0.02²), so the adapter visibly changes outputs. Returns the number of adapted modules.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not finite and positive, or <paramref name="rank"/> is
    /// below 1 or above the smallest in/out feature count of the adapted projections.</exception>
    /// <exception cref="IOException"><paramref name="outDir"/> is not empty or is a file, or writing failed (nothing is left then).</exception>
    public static int Write(string modelDir, string outDir, int rank, float alpha, int seed)
    {
        if (!float.IsFinite(alpha) || alpha <= 0)
            throw new ArgumentOutOfRangeException(nameof(alpha), $"alpha (lora_alpha) must be a finite number greater than 0, got {alpha}");
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), $"rank must be at least 1, got {rank}");
        var config = ModelConfig.Load(modelDir);
        int h = config.HiddenSize, q = config.NumHeads * config.HeadDim, kv = config.NumKvHeads * config.HeadDim, i = config.IntermediateSize;
        bool phi3 = config.Architecture == ModelConfig.Phi3Architecture;
        var modules = config.FusedQkv
            ? new (string Path, string Name, int In, int Out)[] { ("self_attn", phi3 ? "qkv_proj" : "W_pack", h, q + 2 * kv), ("self_attn", "o_proj", q, h) }
            : [("self_attn", "q_proj", h, q), ("self_attn", "k_proj", h, kv), ("self_attn", "v_proj", h, kv), ("self_attn", "o_proj", q, h)];
        modules = config.FusedGateUp
            ? [.. modules, ("mlp", "gate_up_proj", h, 2 * i), ("mlp", "down_proj", i, h)]
            : [.. modules, ("mlp", "gate_proj", h, i), ("mlp", "up_proj", h, i), ("mlp", "down_proj", i, h)];
        var smallest = modules.MinBy(m => Math.Min(m.In, m.Out));
        int maxRank = Math.Min(smallest.In, smallest.Out);
        if (rank > maxRank)
            throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} is larger than {maxRank}, the smallest in/out feature count of the " +
                $"adapted projections ({smallest.Name}: {smallest.In} in, {smallest.Out} out); use a rank of at most {maxRank}");
        var output = new StagedOutputFolder(outDir, "adapter folder", overwrite: false) { OverwriteFlag = null };
        output.CheckTarget();
        var tensors = new List<TensorToWrite>();
        for (int layer = 0; layer < config.NumLayers; layer++)
        {
            foreach (var (path, name, fanIn, fanOut) in modules)
            {
                var prefix = $"base_model.model.model.layers.{layer}.{path}.{name}";
                tensors.Add(Random(prefix + ".lora_A.weight", rank, fanIn, 1.0f / MathF.Sqrt(fanIn), seed));
                tensors.Add(Random(prefix + ".lora_B.weight", fanOut, rank, 0.02f, seed));
            }
        }
        var adapterConfig = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = "CAUSAL_LM",
            ["r"] = rank,
            ["lora_alpha"] = alpha,
            ["lora_dropout"] = 0.0,
            ["target_modules"] = new JsonArray(modules.Select(m => (JsonNode)JsonValue.Create(m.Name)!).ToArray()),
            ["fan_in_fan_out"] = false,
            ["bias"] = "none",
            ["use_rslora"] = false,
            ["modules_to_save"] = null,
            ["base_model_name_or_path"] = Path.GetFullPath(modelDir),
            ["inference_mode"] = true,
        };
        output.Write(dir =>
        {
            SafetensorsWriter.WriteFile(Path.Combine(dir, "adapter_model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
            File.WriteAllText(Path.Combine(dir, "adapter_config.json"), adapterConfig.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        });
        return modules.Length * config.NumLayers;
    }

    // Each tensor's values come from (seed, tensor name) alone, so the same seed writes the same bytes in every process.
    private static TensorToWrite Random(string name, int rows, int cols, float std, int seed) =>
        new(name, DType.F32, new Shape(rows, cols), stream =>
        {
            var rng = new WeightRandom(seed, name);
            var row = new float[cols];
            for (int r = 0; r < rows; r++)
            {
                rng.FillNormal(row, 0f, std);
                stream.Write(MemoryMarshal.AsBytes(row.AsSpan())); // little-endian F32, as safetensors stores it
            }
        });
}
