// Prompt log-probabilities (vLLM's prompt_logprobs): the trained fixture's held-out perplexity from them, computed across prefill
// chunks and batched requests, equals the float32 reference; the prefix cache never skips them; the first prompt token has none.
using Estuary.Engine.Scheduling;
using Estuary.Testing;
using Estuary.Tokenization;

namespace Estuary.Engine.Tests;

public class PromptLogprobsTests
{
    [Fact]
    public void HeldoutPerplexityFromPromptLogprobsMatchesTheFloat32Reference()
    {
        using var reference = Fixtures.Json("baichuan2-bible-256", "reference.json");
        var ppl = reference.RootElement.GetProperty("perplexity");
        var expected = ppl.GetProperty("results").GetProperty("float32");
        int window = ppl.GetProperty("window").GetInt32();
        var dir = Fixtures.Path("baichuan2-bible-256");
        var ids = TextTokenizer.Load(dir).Encode(File.ReadAllText(Fixtures.Path("baichuan2-bible-256", "heldout.txt")), addSpecialTokens: false);
        var windows = new List<int[]>();
        for (int start = 0; start + 1 < ids.Length; start += window) windows.Add(ids[start..Math.Min(ids.Length, start + window)]);

        // Prefill chunks of 48 tokens: each window's rows come from several steps, and several windows share each step.
        using var llm = Llm.Load(dir, new EngineConfig { MaxNumBatchedTokens = 48, MaxNumSeqs = 8 });
        var results = llm.Generate(windows, SamplingParams.Greedy(1) with { PromptLogprobs = 2, IgnoreEos = true });
        double nll = 0;
        long scored = 0;
        for (int w = 0; w < windows.Count; w++)
        {
            var lps = results[w].PromptLogprobs!;
            Assert.Equal(windows[w].Length - 1, lps.Count);
            for (int k = 0; k < lps.Count; k++)
            {
                Assert.Equal(windows[w][k + 1], lps[k].TokenId);
                Assert.Equal(2, lps[k].TopLogprobs!.Length);
                Assert.True(lps[k].TopLogprobs![0].Logprob >= lps[k].Logprob - 1e-6f);
                nll -= lps[k].Logprob;
                scored++;
            }
        }
        Assert.Equal(expected.GetProperty("num_windows").GetInt32(), windows.Count);
        Assert.Equal(expected.GetProperty("num_scored_tokens").GetInt64(), scored);
        Assert.Equal(expected.GetProperty("mean_nll").GetDouble(), nll / scored, 5);
    }

    [Fact]
    public void ThePrefixCacheIsBypassedOnlyForRequestsThatAskForPromptLogprobs()
    {
        using var llm = Llm.Load(Fixtures.Path("stories260k"), new EngineConfig { BlockSize = 4 });
        var prompt = llm.Engine.Tokenizer.Encode("Once upon a time, there was a little girl named Lily who loved to play");
        var asked = SamplingParams.Greedy(2) with { PromptLogprobs = 0, IgnoreEos = true };
        var first = llm.Generate([prompt], asked)[0];
        var again = llm.Generate([prompt], asked)[0]; // every full block of this prompt is cached by now
        Assert.Equal(prompt.Length - 1, again.PromptLogprobs!.Count);
        Assert.Equal(first.PromptLogprobs!.Select(s => s.Logprob), again.PromptLogprobs.Select(s => s.Logprob));
        Assert.Equal(first.OutputIds, again.OutputIds);

        // A plain request reuses the cached prefix and reports no prompt log-probabilities.
        llm.Engine.AddRequest("plain", prompt, SamplingParams.Greedy(2) with { IgnoreEos = true });
        RequestOutput? output = null;
        while (llm.Engine.HasUnfinishedRequests)
            foreach (var o in llm.Engine.Step()) output = o.PromptLogprobs is null ? output ?? o : throw new Xunit.Sdk.XunitException("unasked prompt logprobs");
        Assert.True(output!.NumCachedTokens > 0);
    }

    [Fact]
    public void PreemptionMidPromptNeitherRepeatsNorChangesThem()
    {
        string[] texts =
        [
            "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends.",
            "Tom had a big red ball. He liked to kick it high into the sky and run after it all day long with his dog.",
            "One day, a small bird sat on the tree. It was sad because it could not fly. A kind boy came to help the bird.",
            "The sun was hot and the children went to the lake. They swam and laughed and ate yummy cake under a tree.",
        ];
        var sampling = SamplingParams.Greedy(30) with { PromptLogprobs = 1, IgnoreEos = true };
        using var roomy = Llm.Load(Fixtures.Path("stories260k"), new EngineConfig { BlockSize = 4 });
        var prompts = texts.Select(t => roomy.Engine.Tokenizer.Encode(t)).ToArray();
        var expected = roomy.Generate(prompts, sampling);

        // 16-token prefill chunks and 24 blocks of 4 for four requests of ~60 tokens: prompts are preempted while being scored.
        using var tight = Llm.Load(Fixtures.Path("stories260k"), new EngineConfig
        {
            BlockSize = 4, NumKvBlocks = 24, MaxNumBatchedTokens = 16, Policy = SchedulingPolicy.MaxUtilization,
        });
        var actual = tight.Generate(prompts, sampling);
        Assert.True(tight.Engine.Stats.NumPreemptions > 0, "expected preemptions");
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(expected[i].OutputIds, actual[i].OutputIds);
            Assert.Equal(prompts[i].Length - 1, actual[i].PromptLogprobs!.Count);
            for (int k = 0; k < prompts[i].Length - 1; k++)
            {
                Assert.Equal(prompts[i][k + 1], actual[i].PromptLogprobs![k].TokenId);
                Assert.Equal(expected[i].PromptLogprobs![k].Logprob, actual[i].PromptLogprobs![k].Logprob, 5);
            }
        }
        Assert.Equal(tight.Engine.Stats.NumKvBlocks, tight.Engine.Stats.NumFreeKvBlocks);
    }

    [Fact]
    public void PromptLogprobsAreValidatedAndAOneTokenPromptHasNone()
    {
        Assert.Contains(new SamplingParams { PromptLogprobs = 21 }.Validate(), e => e.StartsWith("prompt_logprobs"));
        using var llm = Llm.Load(Fixtures.Path("stories260k"));
        var r = llm.Generate([[1]], SamplingParams.Greedy(3) with { PromptLogprobs = 1, IgnoreEos = true })[0];
        Assert.Empty(r.PromptLogprobs!);
        Assert.Equal(3, r.OutputIds.Length);
    }
}
