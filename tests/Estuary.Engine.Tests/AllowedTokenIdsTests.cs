// vLLM's allowed_token_ids: only the listed ids are sampled; greedy picks the argmax over them, which the test computes on its
// own from prompt log-probabilities (each candidate appended to the context and scored); bad lists are refused naming the field.
using Estuary.Testing;

namespace Estuary.Engine.Tests;

public class AllowedTokenIdsTests
{
    [Fact]
    public void GreedyOutputIsTheArgmaxOverTheAllowedIds()
    {
        using var llm = Llm.Load(Fixtures.Path("stories260k"));
        var tokenizer = llm.Engine.Tokenizer;
        var prompt = tokenizer.Encode("Once upon a time");
        var free = llm.Generate([prompt], SamplingParams.Greedy(6) with { IgnoreEos = true })[0];
        // Words the model likes in stories, minus the token it would pick first unconstrained (so the mask must change the output).
        int[] allowed = [.. tokenizer.Encode("there was a little girl named Lily who loved the sun", addSpecialTokens: false)
            .Distinct().Where(id => id != free.OutputIds[0]).Order()];
        Assert.True(allowed.Length >= 5);
        var constrained = llm.Generate([prompt], SamplingParams.Greedy(6) with { IgnoreEos = true, AllowedTokenIds = allowed, Logprobs = 1 })[0];
        Assert.Equal(6, constrained.OutputIds.Length);
        Assert.All(constrained.OutputIds, id => Assert.Contains(id, allowed));
        Assert.NotEqual(free.OutputIds, constrained.OutputIds);

        // Independently: at each step, score every allowed id appended to the context; the best (lowest id on a tie) must be the one generated.
        var contexts = new List<int[]>();
        for (int step = 0; step < 6; step++)
            foreach (var id in allowed) contexts.Add([.. prompt, .. constrained.OutputIds[..step], id]);
        var scored = llm.Generate(contexts, SamplingParams.Greedy(1) with { PromptLogprobs = 0 });
        for (int step = 0; step < 6; step++)
        {
            int best = -1;
            float bestLogprob = float.NegativeInfinity;
            for (int j = 0; j < allowed.Length; j++)
            {
                float lp = scored[step * allowed.Length + j].PromptLogprobs![^1].Logprob;
                if (lp > bestLogprob) (best, bestLogprob) = (allowed[j], lp);
            }
            Assert.Equal(best, constrained.OutputIds[step]);
            // The reported logprob stays the model's own (unmasked) one.
            Assert.Equal(bestLogprob, constrained.Logprobs![step].Logprob, 3);
        }
    }

    [Fact]
    public void SampledOutputStaysInsideTheAllowedIds()
    {
        using var llm = Llm.Load(Fixtures.Path("stories260k"));
        int[] allowed = [.. llm.Engine.Tokenizer.Encode("the dog and cat ran to play", addSpecialTokens: false).Distinct()];
        var sampled = new SamplingParams { Temperature = 1.5f, Seed = 7, MaxTokens = 40, IgnoreEos = true, AllowedTokenIds = allowed };
        var result = llm.Generate([llm.Engine.Tokenizer.Encode("The cat")], sampled)[0];
        Assert.True(allowed.Length >= 5);
        Assert.Equal(40, result.OutputIds.Length);
        Assert.All(result.OutputIds, id => Assert.Contains(id, allowed));
        Assert.True(result.OutputIds.Distinct().Count() > 2, string.Join(' ', result.OutputIds)); // really sampled among them
    }

    [Fact]
    public void WhenBansTakeEveryAllowedIdTheListStillWins()
    {
        using var llm = Llm.Load(Fixtures.Path("stories260k"));
        var prompt = llm.Engine.Tokenizer.Encode("Once upon a time");
        int eos = llm.Engine.Tokenizer.EosId;
        Assert.True(eos > 0);
        // Only EOS is allowed, and min_tokens bans it: nothing sampleable is left; the allowed list wins (its lowest id), so the
        // request ends at once rather than producing a token outside the list.
        var result = llm.Generate([prompt], SamplingParams.Greedy(4) with { AllowedTokenIds = [eos], MinTokens = 2 })[0];
        Assert.Equal(FinishReason.Stop, result.FinishReason);
        Assert.All(result.OutputIds, id => Assert.Equal(eos, id));
    }

    [Fact]
    public void EmptyNegativeOrOutOfVocabularyListsAreRefusedNamingTheField()
    {
        Assert.Contains((SamplingParams.Greedy() with { AllowedTokenIds = [] }).Validate(), e => e.StartsWith("allowed_token_ids", StringComparison.Ordinal));
        Assert.Contains((SamplingParams.Greedy() with { AllowedTokenIds = [3, -1] }).Validate(), e => e.StartsWith("allowed_token_ids", StringComparison.Ordinal));
        Assert.Empty((SamplingParams.Greedy() with { AllowedTokenIds = [3] }).Validate());
        using var llm = Llm.Load(Fixtures.Path("stories260k"));
        var errors = llm.Engine.ValidateRequest([1, 2], SamplingParams.Greedy() with { AllowedTokenIds = [3, llm.Engine.ModelConfig.VocabSize] });
        Assert.Contains(errors, e => e.StartsWith("allowed_token_ids", StringComparison.Ordinal) && e.Contains("vocabulary"));
    }
}
