// Biases and q/k norms are read exactly where config.json says the architecture has them: a missing one fails naming the tensor,
// and a bias stored where the config gives none fails too (dropping it would silently compute another model).
using System.Text.Json.Nodes;
using Estuary.Backend.Cpu;
using Estuary.Models.Loading;

namespace Estuary.Models.Tests.Architectures;

public sealed class QwenMistralLoadErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-qwen-load-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Copy(string model, Action<JsonObject> editConfig, Func<string, bool>? keepTensor = null)
    {
        var src = QwenMistralReferenceTests.ModelDir(model);
        foreach (var f in Directory.GetFiles(src)) File.Copy(f, Path.Combine(_dir, Path.GetFileName(f)));
        var path = Path.Combine(_dir, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        editConfig(json);
        File.WriteAllText(path, json.ToJsonString());
        if (keepTensor is null) return;
        var target = Path.Combine(_dir, "model.safetensors");
        using (var reader = CheckpointIndex.Open(src))
        {
            var tensors = reader.Names.Where(keepTensor).Select(n => TensorToWrite.FromWeight(reader.Load(n))).ToList();
            File.Delete(target);
            SafetensorsWriter.WriteFile(target, tensors);
        }
    }

    private CheckpointException LoadFails()
    {
        using var backend = new CpuBackend(1);
        return Assert.Throws<CheckpointException>(() => ModelLoader.Load(_dir, backend).Dispose());
    }

    [Fact]
    public void AStoredBiasTheConfigDoesNotGiveIsRefused()
    {
        // Qwen3 with biases, but attention_bias false: q_proj.bias would be ignored.
        Copy("qwen3-tiny-bias", c => c["attention_bias"] = false);
        var e = LoadFails();
        Assert.Contains("model.layers.0.self_attn.q_proj.bias", e.Message);
        Assert.Contains("attention_bias", e.Message);
    }

    [Fact]
    public void AQwen2CheckpointDeclaredAsLlamaIsRefusedForItsBiases()
    {
        Copy("qwen2-tiny", c => c["architectures"] = new JsonArray("LlamaForCausalLM"));
        Assert.Contains("q_proj.bias", LoadFails().Message);
    }

    [Fact]
    public void AMissingBiasIsNamed()
    {
        Copy("llama-tiny-bias", _ => { }, keepTensor: n => n != "model.layers.1.mlp.down_proj.bias");
        Assert.Contains("model.layers.1.mlp.down_proj.bias", LoadFails().Message);
    }

    [Fact]
    public void AMissingQkNormIsNamed()
    {
        Copy("qwen3-tiny", _ => { }, keepTensor: n => n != "model.layers.1.self_attn.k_norm.weight");
        Assert.Contains("model.layers.1.self_attn.k_norm.weight", LoadFails().Message);
    }

    [Fact]
    public void AQkNormOfTheWrongWidthIsNamed()
    {
        // head_dim 8 instead of 16: q_norm [16] no longer fits (and q_proj neither); the first tensor checked is named with both shapes.
        Copy("qwen3-tiny", c => c["head_dim"] = 8);
        var e = LoadFails();
        Assert.Contains("expected", e.Message);
    }
}
