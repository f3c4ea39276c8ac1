// LoRA on a model with biases and q/k norms (qwen3-tiny-bias): merge-lora copies the biases and norms through unchanged, and the
// merged folder generates what the unmerged adapter does on the float base.
using Estuary.Models.Loading;
using Estuary.Models.Lora;
using Estuary.Models.Synthetic;
using Estuary.Tensors;

namespace Estuary.Engine.Tests.Lora;

public sealed class QwenMistralLoraTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("estuary-qwen-lora-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Phi3FusedModulesServeUnmergedAsTheyMerge()
    {
        // Phi-3's adapters target qkv_proj and gate_up_proj, each fused: unmerged, their lora_B rows are split over q, k, v and gate, up
        // as the base rows are; merged, they add to the fused tensors. Both must generate alike.
        string baseDir = Path.Combine(_root, "phi3"), adapter = Path.Combine(_root, "phi3-adapter"), merged = Path.Combine(_root, "phi3-merged");
        TinyModelFolder.Write("phi3-tiny", baseDir);
        Assert.Equal(2 * 4, RandomLoraWriter.Write(baseDir, adapter, rank: 4, alpha: 64, seed: 5)); // qkv, o, gate_up, down per layer
        LoraMerger.Merge(new LoraMergeOptions(adapter, merged) { BaseDir = baseDir, DType = DType.F32 });
        AssertUnmergedGeneratesAsMerged(baseDir, adapter, merged);
    }

    // The adapter served unmerged on the base generates what the merged folder generates, and changes some output.
    private static void AssertUnmergedGeneratesAsMerged(string baseDir, string adapter, string merged)
    {
        foreach (var f in Directory.GetFiles(baseDir, "tokenizer*")) File.Copy(f, Path.Combine(merged, Path.GetFileName(f)), overwrite: true);
        int[][] prompts = [[5, 17, 33, 60, 2, 91, 44, 8, 12], [70, 3, 3, 19]];
        var sampling = SamplingParams.Greedy(12) with { IgnoreEos = true };
        var config = new EngineConfig { NumKvBlocks = 64, BlockSize = 4 };
        using var unmerged = Llm.Load(baseDir, config, loras: new Dictionary<string, string> { ["a"] = adapter });
        using var mergedLlm = Llm.Load(merged, config);
        var withAdapter = unmerged.Generate(prompts, sampling with { LoraName = "a" });
        var plain = unmerged.Generate(prompts, sampling);
        var fromMerged = mergedLlm.Generate(prompts, sampling);
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(withAdapter[i].OutputIds, fromMerged[i].OutputIds);
        Assert.True(Enumerable.Range(0, prompts.Length).Any(i => !withAdapter[i].OutputIds.SequenceEqual(plain[i].OutputIds)),
            "the adapter does not change any output, so the comparison above says nothing");
    }

    [Fact]
    public void MergedAdapterKeepsBiasesAndNormsAndGeneratesAsUnmerged()
    {
        string baseDir = Path.Combine(_root, "base"), adapter = Path.Combine(_root, "adapter"), merged = Path.Combine(_root, "merged");
        TinyModelFolder.Write("qwen3-tiny-bias", baseDir);
        Assert.Equal(2 * 7, RandomLoraWriter.Write(baseDir, adapter, rank: 4, alpha: 64, seed: 3)); // q, k, v, o, gate, up, down per layer
        LoraMerger.Merge(new LoraMergeOptions(adapter, merged) { BaseDir = baseDir, DType = DType.F32 });
        using (var input = CheckpointIndex.Open(baseDir))
        using (var output = CheckpointIndex.Open(merged))
        {
            var copied = input.Names.Where(n => n.EndsWith(".bias", StringComparison.Ordinal) || n.Contains("_norm.", StringComparison.Ordinal)).ToList();
            Assert.Contains("model.layers.1.self_attn.o_proj.bias", copied);
            Assert.Contains("model.layers.1.self_attn.k_norm.weight", copied);
            foreach (var name in copied)
            {
                var a = input.Load(name);
                var b = output.Load(name);
                for (long i = 0; i < a.Shape.NumElements; i++) Assert.Equal(a.GetFloat(i), b.GetFloat(i));
            }
        }
        AssertUnmergedGeneratesAsMerged(baseDir, adapter, merged);
    }
}
