// The tiny Qwen2 / Qwen3 / Mistral / biased-Llama checkpoints served through the whole engine (batched, chunked prefill, small
// blocks, prefix caching) give the float64 reference greedy continuations of scripts/qwen-mistral-references.py; the windowed
// models' continuations run past their window of 5.
using System.Text.Json;
using Estuary.Testing;

namespace Estuary.Engine.Tests;

public sealed class QwenMistralGenerationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-qwen-engine-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Models =>
        new() { "qwen2-tiny", "qwen2-tiny-window", "qwen3-tiny", "qwen3-tiny-bias", "mistral-tiny", "llama-tiny-bias" };

    [Theory]
    [MemberData(nameof(Models))]
    public void GreedyGenerationMatchesReference(string model)
    {
        TinyModelFolder.Write(model, _dir);
        var src = TinyModelFolder.Source(model);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(src, "reference.json")));
        var cases = doc.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => (Prompt: Fixtures.Ints(c.GetProperty("prompt_ids")), Greedy: Fixtures.Ints(c.GetProperty("generated_ids")))).ToArray();
        foreach (var config in new[] { new EngineConfig(), new EngineConfig { MaxNumBatchedTokens = 5, BlockSize = 4, EnablePrefixCaching = true } })
        {
            using var llm = Llm.Load(_dir, config);
            var sampling = cases.Select(c => SamplingParams.Greedy(c.Greedy.Length) with { IgnoreEos = true }).ToArray();
            var results = llm.Generate(cases.Select(c => c.Prompt).ToArray(), sampling);
            for (int i = 0; i < cases.Length; i++)
                Assert.True(cases[i].Greedy.SequenceEqual(results[i].OutputIds),
                    $"{model} case {i} (block size {config.BlockSize}): expected [{string.Join(",", cases[i].Greedy)}] got [{string.Join(",", results[i].OutputIds)}]");
            Assert.Equal(llm.Engine.Stats.NumKvBlocks, llm.Engine.Stats.NumFreeKvBlocks);
        }
    }
}
