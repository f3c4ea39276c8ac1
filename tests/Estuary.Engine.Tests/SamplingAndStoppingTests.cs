// Seeded sampling is batch-invariant; stop strings, stop tokens, max_tokens, penalties and bad words behave as documented.
using Estuary.Testing;

namespace Estuary.Engine.Tests;

public class SamplingAndStoppingTests
{
    private static Llm Stories(EngineConfig? config = null) => Llm.Load(Fixtures.Path("stories260k"), config);

    [Fact]
    public void SameSeedGivesSameOutputAloneAndInABatch()
    {
        using var llm = Stories();
        var sampled = new SamplingParams { Temperature = 0.9f, TopK = 40, TopP = 0.95f, Seed = 1234, MaxTokens = 40, IgnoreEos = true };
        var alone = llm.Generate([llm.Engine.Tokenizer.Encode("Once upon a time")], sampled)[0];
        var others = new[] { "The cat", "Lily and Tom", "One day", "Once upon a time" }.Select(p => llm.Engine.Tokenizer.Encode(p)).ToArray();
        var mixed = new[]
        {
            sampled with { Seed = 1 }, SamplingParams.Greedy(30), sampled with { Seed = 99, Temperature = 1.2f }, sampled,
        };
        var batch = llm.Generate(others, mixed);
        Assert.Equal(alone.OutputIds, batch[3].OutputIds);
        Assert.NotEqual(batch[0].OutputIds, batch[3].OutputIds); // a different seed really samples differently
    }

    [Fact]
    public void SamplingWithoutSeedsVariesAndTopKOneIsGreedy()
    {
        using var llm = Stories();
        var prompt = llm.Engine.Tokenizer.Encode("Once upon a time");
        var greedy = llm.Generate([prompt], SamplingParams.Greedy(30) with { IgnoreEos = true })[0];
        var topK1 = llm.Generate([prompt], new SamplingParams { Temperature = 1.5f, TopK = 1, MaxTokens = 30, IgnoreEos = true })[0];
        Assert.Equal(greedy.OutputIds, topK1.OutputIds);
        var hot = new SamplingParams { Temperature = 2.0f, MaxTokens = 30, IgnoreEos = true };
        var a = llm.Generate([prompt, prompt, prompt], hot);
        Assert.False(a[0].OutputIds.SequenceEqual(a[1].OutputIds) && a[1].OutputIds.SequenceEqual(a[2].OutputIds));
    }

    [Fact]
    public void StopStringEndsGenerationAndIsNotEmitted()
    {
        using var llm = Stories();
        var prompt = llm.Engine.Tokenizer.Encode("Once upon a time");
        var full = llm.Generate([prompt], SamplingParams.Greedy(80) with { IgnoreEos = true })[0];
        // "little girl" spans several tokens of the reference continuation.
        Assert.Contains("little girl", full.Text);
        var stopped = llm.Generate([prompt], SamplingParams.Greedy(80) with { IgnoreEos = true, Stop = ["little girl"] })[0];
        Assert.Equal(FinishReason.Stop, stopped.FinishReason);
        Assert.Equal(full.Text[..full.Text.IndexOf("little girl", StringComparison.Ordinal)], stopped.Text);
        Assert.True(stopped.OutputIds.Length < full.OutputIds.Length);
    }

    [Fact]
    public void StreamedDeltasNeverContainAPartialStopString()
    {
        using var llm = Stories();
        var prompt = llm.Engine.Tokenizer.Encode("Once upon a time");
        llm.Engine.AddRequest("s", prompt, SamplingParams.Greedy(80) with { IgnoreEos = true, Stop = ["named Lily"] });
        var deltas = new List<string>();
        while (llm.Engine.HasUnfinishedRequests)
            foreach (var o in llm.Engine.Step()) deltas.Add(o.NewText);
        var text = string.Concat(deltas);
        Assert.EndsWith("little girl ", text);
        Assert.DoesNotContain("named", text);
    }

    [Fact]
    public void StopTokenIdsAndMaxTokensSetTheFinishReason()
    {
        using var llm = Stories();
        var reference = ReferenceCases.Load("stories260k")[1];
        int stopToken = reference.GreedyIds[5];
        var stop = llm.Generate([reference.PromptIds], SamplingParams.Greedy(80) with { StopTokenIds = [stopToken] })[0];
        Assert.Equal(FinishReason.Stop, stop.FinishReason);
        Assert.Equal(reference.GreedyIds[..(Array.IndexOf(reference.GreedyIds, stopToken) + 1)], stop.OutputIds);
        var length = llm.Generate([reference.PromptIds], SamplingParams.Greedy(7))[0];
        Assert.Equal(FinishReason.Length, length.FinishReason);
        Assert.Equal(7, length.OutputIds.Length);
    }

    [Fact]
    public void MinTokensBansEosAndStopIds()
    {
        using var llm = Stories();
        var reference = ReferenceCases.Load("stories260k")[1];
        int stopToken = reference.GreedyIds[2];
        var r = llm.Generate([reference.PromptIds], SamplingParams.Greedy(20) with { StopTokenIds = [stopToken], MinTokens = 10 })[0];
        Assert.DoesNotContain(stopToken, r.OutputIds.Take(9));
        Assert.True(r.OutputIds.Length >= 10);
    }

    [Fact]
    public void PenaltiesAndBadWordsChangeTheOutput()
    {
        using var llm = Stories();
        var prompt = llm.Engine.Tokenizer.Encode("Once upon a time");
        var plain = llm.Generate([prompt], SamplingParams.Greedy(60) with { IgnoreEos = true })[0];
        var penalised = llm.Generate([prompt], SamplingParams.Greedy(60) with { IgnoreEos = true, RepetitionPenalty = 1.5f })[0];
        Assert.NotEqual(plain.OutputIds, penalised.OutputIds);
        var frequency = llm.Generate([prompt], SamplingParams.Greedy(60) with { IgnoreEos = true, FrequencyPenalty = 1.5f })[0];
        Assert.NotEqual(plain.OutputIds, frequency.OutputIds);
        Assert.Contains("Lily", plain.Text);
        var banned = llm.Generate([prompt], SamplingParams.Greedy(60) with { IgnoreEos = true, BadWords = ["Lily"] })[0];
        Assert.DoesNotContain("Lily", banned.Text);
    }

    [Fact]
    public void LogitBiasForcesOrBansTokensAndLeavesLogprobsThoseOfTheModel()
    {
        using var llm = Stories();
        var prompt = llm.Engine.Tokenizer.Encode("Once upon a time");
        var plain = llm.Generate([prompt], SamplingParams.Greedy(20) with { IgnoreEos = true, Logprobs = 1 })[0];

        // +100 on one token: greedy and sampled requests alike produce nothing else; the logprob reported is the model's own.
        const int forced = 300;
        var bias = new Dictionary<int, float> { [forced] = 100 };
        var greedy = llm.Generate([prompt], SamplingParams.Greedy(8) with { IgnoreEos = true, LogitBias = bias, Logprobs = 0 })[0];
        Assert.All(greedy.OutputIds, id => Assert.Equal(forced, id));
        Assert.NotEqual(forced, plain.OutputIds[0]);
        Assert.True(greedy.Logprobs![0].Logprob < plain.Logprobs![0].Logprob, "the reported logprob is the model's, before the bias");
        var sampled = llm.Generate([prompt], new SamplingParams { Temperature = 1, Seed = 5, MaxTokens = 8, IgnoreEos = true, LogitBias = bias })[0];
        Assert.All(sampled.OutputIds, id => Assert.Equal(forced, id));

        // -100 on the greedy first token: the first token changes to the model's second choice.
        int first = plain.OutputIds[0];
        var banned = llm.Generate([prompt], SamplingParams.Greedy(1) with { LogitBias = new Dictionary<int, float> { [first] = -100 }, Logprobs = 2 })[0];
        Assert.NotEqual(first, banned.OutputIds[0]);
        Assert.Equal(banned.Logprobs![0].TopLogprobs![1].TokenId, banned.OutputIds[0]);
    }

    [Fact]
    public void LogitBiasOutsideItsRangeOrTheVocabularyIsRefusedNamingTheField()
    {
        using var llm = Stories();
        var prompt = llm.Engine.Tokenizer.Encode("Once");
        Assert.Contains(new SamplingParams { LogitBias = new Dictionary<int, float> { [5] = 101 } }.Validate(), e => e.StartsWith("logit_bias"));
        Assert.Contains(new SamplingParams { LogitBias = new Dictionary<int, float> { [5] = float.NaN } }.Validate(), e => e.StartsWith("logit_bias"));
        Assert.Contains(new SamplingParams { LogitBias = new Dictionary<int, float> { [-1] = 1 } }.Validate(), e => e.StartsWith("logit_bias"));
        var outside = llm.Engine.ValidateRequest(prompt, SamplingParams.Greedy(4) with { LogitBias = new Dictionary<int, float> { [512] = 1 } });
        Assert.Contains(outside, e => e.StartsWith("logit_bias") && e.Contains("512"));
        Assert.Empty(llm.Engine.ValidateRequest(prompt, SamplingParams.Greedy(4) with { LogitBias = new Dictionary<int, float> { [511] = -100 } }));
    }

    [Fact]
    public void LogprobsAreReturnedAndConsistent()
    {
        using var llm = Stories();
        var prompt = llm.Engine.Tokenizer.Encode("Once upon a time");
        var r = llm.Generate([prompt], SamplingParams.Greedy(5) with { Logprobs = 3, IgnoreEos = true })[0];
        Assert.NotNull(r.Logprobs);
        Assert.Equal(5, r.Logprobs!.Count);
        foreach (var (token, s) in r.OutputIds.Zip(r.Logprobs))
        {
            Assert.Equal(token, s.TokenId);
            Assert.Equal(3, s.TopLogprobs!.Length);
            Assert.Equal(token, s.TopLogprobs[0].TokenId); // greedy picks the most likely token
            Assert.Equal(s.TopLogprobs[0].Logprob, s.Logprob, 5);
            Assert.True(s.Logprob <= 0);
            Assert.True(s.TopLogprobs[0].Logprob >= s.TopLogprobs[1].Logprob);
        }
    }

    [Fact]
    public void SamplingParamsValidationNamesTheField()
    {
        Assert.Contains(new SamplingParams { TopP = 0 }.Validate(), e => e.Contains("top_p"));
        Assert.Contains(new SamplingParams { Temperature = -1 }.Validate(), e => e.Contains("temperature"));
        Assert.Contains(new SamplingParams { MaxTokens = 0 }.Validate(), e => e.Contains("max_tokens"));
        Assert.Contains(new SamplingParams { MinP = 2 }.Validate(), e => e.Contains("min_p"));
        Assert.Empty(new SamplingParams().Validate());
    }
}
