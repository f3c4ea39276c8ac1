// Speculative decoding by prompt lookup: the proposer finds the latest earlier occurrence of the longest suffix n-gram, and the
// engine's outputs (ids, text, log-probabilities, finish reasons) are exactly those without speculation, greedy and seeded,
// alone and in batches, under stop strings, limits, penalties, preemption and prefix caching, while drafts really are
// accepted and fewer steps are run.
using Estuary.Engine.Scheduling;
using Estuary.Testing;

namespace Estuary.Engine.Tests;

public class SpeculativeDecodingTests
{
    [Theory]
    [InlineData(new[] { 1, 2, 3, 9, 1, 2, 3 }, 4, 2, 4, new[] { 9, 1, 2, 3 })]   // "1 2 3" occurred before: what followed it
    [InlineData(new[] { 1, 2, 3, 9, 1, 2, 3 }, 2, 2, 4, new[] { 9, 1 })]         // at most maxDraft
    [InlineData(new[] { 5, 6, 7, 5, 6, 8, 5, 6 }, 4, 1, 4, new[] { 8, 5, 6 })]   // the latest occurrence of "5 6"
    [InlineData(new[] { 4, 1, 2, 7, 2, 8, 1, 2 }, 4, 1, 3, new[] { 7, 2, 8, 1 })] // the longest n first: "1 2", not "2"
    [InlineData(new[] { 1, 2, 3, 4 }, 4, 1, 4, new int[0])]                       // nothing repeats
    [InlineData(new[] { 3, 3, 3, 3 }, 4, 2, 4, new[] { 3 })]                      // a run predicts itself
    [InlineData(new[] { 1, 2, 9, 2 }, 4, 2, 4, new int[0])]                       // a unigram match is below min
    public void TheProposerCopiesWhatFollowedTheLatestEarlierOccurrence(int[] tokens, int maxDraft, int minN, int maxN, int[] expected)
    {
        var draft = new List<int>();
        int count = new NgramProposer(minN, maxN).Propose([.. tokens], maxDraft, draft);
        Assert.Equal(expected, draft);
        Assert.Equal(expected.Length, count);
    }

    private static readonly string[] Prompts =
    [
        "Once upon a time, there was a little girl named Lily. She loved to play outside. Once upon a time, there was a little",
        "Tom had a red ball. Tom had a red ball. Tom had a",
        "One day",
        "The cat sat on the mat. The dog sat on the",
    ];

    private static (List<GenerationResult> Results, EngineStats Stats) Run(EngineConfig config, Func<int, SamplingParams> sampling)
    {
        using var llm = Llm.Load(Fixtures.Path("stories260k"), config with { NumThreads = 1 });
        var prompts = Prompts.Select(p => llm.Engine.Tokenizer.Encode(p)).ToArray();
        var results = llm.Generate(prompts, [.. Enumerable.Range(0, prompts.Length).Select(sampling)]);
        var stats = llm.Engine.Stats;
        Assert.Equal(stats.NumKvBlocks, stats.NumFreeKvBlocks);
        return ([.. results], stats);
    }

    private static void AssertSameOutputs(List<GenerationResult> expected, List<GenerationResult> actual)
    {
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].OutputIds, actual[i].OutputIds);
            Assert.Equal(expected[i].Text, actual[i].Text);
            Assert.Equal(expected[i].FinishReason, actual[i].FinishReason);
            if (expected[i].Logprobs is { } lp)
                Assert.Equal(lp.Select(s => (s.TokenId, s.Logprob)), actual[i].Logprobs!.Select(s => (s.TokenId, s.Logprob)));
        }
    }

    public static TheoryData<string> Cases() => ["greedy", "seeded", "penalties", "stops", "preemption", "alone", "context", "budget", "structured"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void OutputsAreExactlyThoseWithoutSpeculation(string name)
    {
        var config = new EngineConfig();
        Func<int, SamplingParams> sampling = name switch
        {
            "greedy" => i => SamplingParams.Greedy(120) with { IgnoreEos = true, Logprobs = 2 },
            "seeded" => i => new SamplingParams { Temperature = 0.7f, TopK = 20, TopP = 0.9f, Seed = 10 + i, MaxTokens = 120, IgnoreEos = true, Logprobs = 1 },
            "penalties" => i => SamplingParams.Greedy(100) with { RepetitionPenalty = 1.1f, FrequencyPenalty = 0.2f, MinTokens = 30, LogitBias = new Dictionary<int, float> { [300] = 1.5f } },
            "stops" => i => SamplingParams.Greedy(60 + 7 * i) with { Stop = ["little girl", "ball."], IgnoreEos = i % 2 == 0 },
            "preemption" => i => new SamplingParams { Temperature = 0.8f, Seed = i, MaxTokens = 150, IgnoreEos = true },
            "alone" => i => SamplingParams.Greedy(i == 0 ? 200 : 1),
            "context" => i => new SamplingParams { Temperature = 0, MaxTokens = null, IgnoreEos = true }, // to the end of the context
            "budget" => i => SamplingParams.Greedy(80) with { IgnoreEos = true },
            "structured" => i => new SamplingParams
            {
                Temperature = i % 2 == 0 ? 0 : 0.8f, Seed = i, MaxTokens = 150,
                StructuredOutput = StructuredOutput.JsonSchema("""{"type": "array", "items": {"type": "object", "properties": {"name": {"enum": ["Lily", "Tom", "Ben"]}, "age": {"type": "integer", "minimum": 1, "maximum": 9}}, "required": ["name", "age"], "additionalProperties": false}, "minItems": 3, "maxItems": 6}"""),
            },
            _ => throw new ArgumentException(name),
        };
        if (name == "preemption") config = config with { NumKvBlocks = 24, BlockSize = 8 }; // four sequences cannot all fit
        if (name == "context") config = config with { MaxModelLen = 100 }; // drafts must stop short of the last position
        if (name == "budget") config = config with { MaxNumBatchedTokens = 7 }; // four decodes leave room for 3 drafts a step
        var (plain, plainStats) = Run(config, sampling);
        var (speculative, stats) = Run(config with { NumSpeculativeTokens = 4, PromptLookupMin = 1, PromptLookupMax = 3 }, sampling);
        AssertSameOutputs(plain, speculative);
        Assert.Equal(0, plainStats.NumDraftTokens);
        Assert.True(stats.NumAcceptedDraftTokens > 0, $"no draft accepted: {stats}");
        Assert.True(stats.NumAcceptedDraftTokens <= stats.NumDraftTokens);
        Assert.True(stats.NumSteps < plainStats.NumSteps, $"{stats.NumSteps} steps with speculation, {plainStats.NumSteps} without");
        if (name == "preemption") Assert.True(stats.NumPreemptions > 0 && plainStats.NumPreemptions > 0);
    }

    [Fact]
    public void StructuredAndPromptScoredRequestsMixWithSpeculatingOnes()
    {
        var config = new EngineConfig { NumSpeculativeTokens = 3, PromptLookupMin = 1 };
        Func<int, SamplingParams> sampling = i => i switch
        {
            0 => SamplingParams.Greedy(40) with { StructuredOutput = StructuredOutput.Regex("( [a-z]+){3,8}\\.") },
            1 => SamplingParams.Greedy(30) with { PromptLogprobs = 1 },
            _ => SamplingParams.Greedy(80) with { IgnoreEos = true },
        };
        var (plain, _) = Run(new EngineConfig(), sampling);
        var (speculative, stats) = Run(config, sampling);
        AssertSameOutputs(plain, speculative);
        Assert.Equal(plain[1].PromptLogprobs!.Select(p => p.Logprob), speculative[1].PromptLogprobs!.Select(p => p.Logprob));
        Assert.True(stats.NumAcceptedDraftTokens > 0);
    }

    [Theory]
    [InlineData("baichuan2-bible-256-awq-rtn", "none")] // AWQ INT4 weights
    [InlineData("baichuan2-bible-256", "int8")]         // INT8 weights quantized at load
    public void QuantizedModelsGiveTheSameOutputsToo(string folder, string quantization)
    {
        // The quantized matmuls are batch-invariant as well, so a draft row equals the one-token row it stands for.
        var config = new EngineConfig { NumThreads = 1, Quantization = quantization == "int8" ? Estuary.Models.Quantization.QuantizationMode.Int8 : default };
        var text = File.ReadAllText(Fixtures.Path(Path.Combine("baichuan2-bible-256", "heldout.txt")))[..300]; // about 240 of the 512 tokens of context
        (GenerationResult, EngineStats) Generate(EngineConfig c)
        {
            using var llm = Llm.Load(Fixtures.Path(folder), c);
            return (llm.Generate([text], SamplingParams.Greedy(120) with { IgnoreEos = true })[0], llm.Engine.Stats);
        }
        var (plain, _) = Generate(config);
        var (speculative, stats) = Generate(config with { NumSpeculativeTokens = 4, PromptLookupMin = 1 });
        Assert.Equal(plain.OutputIds, speculative.OutputIds);
        Assert.True(stats.NumAcceptedDraftTokens > 0, $"no draft accepted: {stats}");
    }

    [Fact]
    public void DisableByBatchSizeStopsDraftingWhileTheBatchIsLarge()
    {
        // Three of the four requests end after one token; the long one drafts once it runs alone (fewer than 2 requests), and
        // never under a limit of 1.
        Func<int, SamplingParams> sampling = i => SamplingParams.Greedy(i == 0 ? 200 : 1);
        var speculative = new EngineConfig { NumSpeculativeTokens = 4, PromptLookupMin = 1 };
        var (plain, _) = Run(new EngineConfig(), sampling);
        var (limited, stats) = Run(speculative with { SpeculativeDisableBySize = 2 }, sampling);
        AssertSameOutputs(plain, limited);
        Assert.True(stats.NumAcceptedDraftTokens > 0);
        var (off, offStats) = Run(speculative with { SpeculativeDisableBySize = 1 }, sampling);
        AssertSameOutputs(plain, off);
        Assert.Equal(0, offStats.NumDraftTokens);
    }

    [Fact]
    public void BadSettingsAreRefusedByName()
    {
        Assert.Contains("num_speculative_tokens", string.Join(";", new EngineConfig { NumSpeculativeTokens = -1 }.Validate()));
        Assert.Contains("prompt_lookup_min", string.Join(";", new EngineConfig { NumSpeculativeTokens = 2, PromptLookupMin = 3, PromptLookupMax = 2 }.Validate()));
        Assert.Empty(new EngineConfig { NumSpeculativeTokens = 0, PromptLookupMin = 3, PromptLookupMax = 2 }.Validate());
        Assert.Contains("disable_by_batch_size", string.Join(";", new EngineConfig { NumSpeculativeTokens = 2, SpeculativeDisableBySize = 0 }.Validate()));
    }
}
