// The offline batch API (vLLM's LLM.generate): submit all prompts, step until done, return results in prompt order.
using Estuary.Engine.Sampling;

namespace Estuary.Engine;

/// <summary>Offline batched generation.</summary>
public sealed class Llm(LlmEngine engine) : IDisposable
{
    /// <summary>The engine.</summary>
    public LlmEngine Engine { get; } = engine;

    /// <summary>Loads a model directory, with optional LoRA adapters (name → folder) chosen per request by <see cref="SamplingParams.LoraName"/>.</summary>
    public static Llm Load(string modelDir, EngineConfig? config = null, IProgress<int>? layerLoaded = null,
        IReadOnlyDictionary<string, string>? loras = null) =>
        new(LlmEngine.Load(modelDir, config, layerLoaded, loras));

    /// <summary>Encodes text prompts (with the tokenizer's BOS/EOS settings) and generates.</summary>
    public IReadOnlyList<GenerationResult> Generate(IReadOnlyList<string> prompts, SamplingParams sampling)
    {
        var ids = new int[prompts.Count][];
        for (int i = 0; i < prompts.Count; i++) ids[i] = Engine.Tokenizer.Encode(prompts[i]);
        return Generate(ids, sampling);
    }

    /// <summary>Generates for every prompt as one batch; results are in prompt order.</summary>
    public IReadOnlyList<GenerationResult> Generate(IReadOnlyList<int[]> promptIds, SamplingParams sampling)
    {
        var perPrompt = new SamplingParams[promptIds.Count];
        Array.Fill(perPrompt, sampling);
        return Generate(promptIds, perPrompt);
    }

    /// <summary>Generates with one sampling setting per prompt.</summary>
    public IReadOnlyList<GenerationResult> Generate(IReadOnlyList<int[]> promptIds, IReadOnlyList<SamplingParams> sampling)
    {
        if (promptIds.Count != sampling.Count) throw new ArgumentException("one SamplingParams per prompt is required");
        var tag = Guid.NewGuid().ToString("N")[..8];
        var texts = new System.Text.StringBuilder[promptIds.Count];
        var outputs = new List<int>[promptIds.Count];
        var logprobs = new List<SampleResult>?[promptIds.Count];
        var promptLogprobs = new IReadOnlyList<SampleResult>?[promptIds.Count];
        var reasons = new FinishReason[promptIds.Count];
        var index = new Dictionary<string, int>();
        try
        {
            for (int i = 0; i < promptIds.Count; i++)
            {
                var id = $"offline-{tag}-{i}";
                Engine.AddRequest(id, promptIds[i], sampling[i]);
                index[id] = i;
                texts[i] = new System.Text.StringBuilder();
                outputs[i] = [];
                logprobs[i] = sampling[i].Logprobs.HasValue ? [] : null;
            }
            int remaining = promptIds.Count;
            while (remaining > 0)
            {
                foreach (var o in Engine.Step())
                {
                    if (!index.TryGetValue(o.RequestId, out int i)) continue;
                    texts[i].Append(o.NewText);
                    outputs[i].AddRange(o.NewTokenIds);
                    if (o.NewLogprobs != null) logprobs[i]?.AddRange(o.NewLogprobs);
                    if (o.PromptLogprobs != null) promptLogprobs[i] = o.PromptLogprobs;
                    if (o.Finished)
                    {
                        reasons[i] = o.FinishReason ?? FinishReason.Stop;
                        remaining--;
                    }
                }
            }
        }
        catch
        {
            foreach (var id in index.Keys) Engine.Abort(id);
            throw;
        }
        var results = new GenerationResult[promptIds.Count];
        for (int i = 0; i < results.Length; i++)
            results[i] = new GenerationResult(promptIds[i], [.. outputs[i]], texts[i].ToString(), reasons[i], logprobs[i], promptLogprobs[i]);
        return results;
    }

    /// <inheritdoc />
    public void Dispose() => Engine.Dispose();
}
