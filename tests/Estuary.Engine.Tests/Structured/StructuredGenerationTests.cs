// Structured output through the whole engine on the trained stories260K model: the constrained greedy output equals a
// step-by-step reference that bans, by plain string checks, every token that would leave the allowed texts.
using Estuary.Testing;

namespace Estuary.Engine.Tests.Structured;

public class StructuredGenerationTests
{
    private static Llm Stories(EngineConfig? config = null) => Llm.Load(Fixtures.Path("stories260k"), config);

    private static readonly string[] Choices = [" Lily went to the park.", " Tom was sad.", " The end", " The end of the day"];

    [Fact]
    public void GreedyChoiceEqualsAStepByStepReferenceThatBansLeavingTokens()
    {
        using var llm = Stories();
        var tok = llm.Engine.Tokenizer;
        foreach (var promptText in new[] { "Once upon a time", "The cat sat", "Lily and Tom" })
        {
            var prompt = tok.Encode(promptText);
            var result = llm.Generate([prompt], SamplingParams.Greedy(64) with { StructuredOutput = StructuredOutput.Choice(Choices) })[0];
            var reference = Reference(llm, prompt, text => Choices.Any(c => c.StartsWith(text, StringComparison.Ordinal)), text => Choices.Contains(text));
            Assert.Equal(reference, result.OutputIds);
            Assert.Contains(result.Text, Choices);
            Assert.Equal(FinishReason.Stop, result.FinishReason);
        }
    }

    [Fact]
    public void GreedyJsonSchemaEqualsTheReferenceAndParses()
    {
        // The reference asks the grammar about whole strings (AcceptsPrefix), not the vocabulary trie the engine's masks use.
        const string schema = """{"type":"object","properties":{"name":{"type":"string","maxLength":8},"age":{"type":"integer","minimum":1,"maximum":99}},"required":["name","age"]}""";
        using var llm = Stories();
        var automaton = new Estuary.Engine.Structured.GrammarAutomaton(Estuary.Engine.Structured.JsonSchemaGrammar.Build(System.Text.Json.JsonDocument.Parse(schema).RootElement));
        foreach (var promptText in new[] { "Once upon a time", "Lily and Tom" })
        {
            var prompt = llm.Engine.Tokenizer.Encode(promptText);
            var result = llm.Generate([prompt], SamplingParams.Greedy(200) with { StructuredOutput = StructuredOutput.JsonSchema(schema) })[0];
            var reference = Reference(llm, prompt, automaton.AcceptsPrefix, automaton.Accepts, maxTokens: 200);
            Assert.Equal(reference, result.OutputIds);
            Assert.Equal(FinishReason.Stop, result.FinishReason);
            using var doc = System.Text.Json.JsonDocument.Parse(result.Text);
            Assert.InRange(doc.RootElement.GetProperty("age").GetInt32(), 1, 99);
            Assert.True(doc.RootElement.GetProperty("name").GetString()!.Length <= 8);
        }
    }

    [Fact]
    public void SampledChoicesStayInsideTheChoicesAndEndAtOnce()
    {
        using var llm = Stories();
        var prompt = llm.Engine.Tokenizer.Encode("Once upon a time");
        var sampling = new SamplingParams { Temperature = 1.5f, MaxTokens = 64, StructuredOutput = StructuredOutput.Choice(Choices) };
        var results = llm.Generate([.. Enumerable.Repeat(prompt, 24)], [.. Enumerable.Range(0, 24).Select(i => sampling with { Seed = i })]);
        foreach (var r in results)
        {
            Assert.Contains(r.Text, Choices);
            Assert.Equal(FinishReason.Stop, r.FinishReason);
        }
        Assert.True(results.Select(r => r.Text).Distinct().Count() > 1, "a hot temperature should reach more than one choice");
    }

    [Fact]
    public void IgnoreEosStillEndsWhenNothingMayFollow()
    {
        using var llm = Stories();
        var prompt = llm.Engine.Tokenizer.Encode("Once upon a time");
        var r = llm.Generate([prompt], SamplingParams.Greedy(64) with { IgnoreEos = true, StructuredOutput = StructuredOutput.Choice([" Tom was sad."]) })[0];
        Assert.Equal(" Tom was sad.", r.Text);
        Assert.Equal(FinishReason.Stop, r.FinishReason);
    }

    [Fact]
    public void MaxTokensCutsAConstrainedOutputWithFinishReasonLength()
    {
        using var llm = Stories();
        var prompt = llm.Engine.Tokenizer.Encode("Once upon a time");
        var r = llm.Generate([prompt], SamplingParams.Greedy(2) with { StructuredOutput = StructuredOutput.Choice(Choices) })[0];
        Assert.Equal(FinishReason.Length, r.FinishReason);
        Assert.Equal(2, r.OutputIds.Length);
        Assert.Contains(Choices, c => c.StartsWith(r.Text, StringComparison.Ordinal));
    }

    [Fact]
    public void PreemptionDoesNotChangeConstrainedOutputs()
    {
        var prompts = new[] { "Once upon a time", "The cat sat", "Lily and Tom", "One day" };
        var sampling = new SamplingParams { Temperature = 1.0f, MaxTokens = 64, StructuredOutput = StructuredOutput.Choice(Choices) };
        (IReadOnlyList<GenerationResult>, long) Run(EngineConfig config)
        {
            using var llm = Stories(config);
            var results = llm.Generate([.. prompts.Select(p => llm.Engine.Tokenizer.Encode(p))], [.. prompts.Select((_, i) => sampling with { Seed = i })]);
            return (results, llm.Engine.Stats.NumPreemptions);
        }
        var (roomy, _) = Run(new EngineConfig());
        var (tight, preemptions) = Run(new EngineConfig { NumKvBlocks = 8, BlockSize = 4, MaxNumBatchedTokens = 8 });
        Assert.True(preemptions > 0, "the tight cache should preempt");
        Assert.Equal(roomy.Select(r => r.Text), tight.Select(r => r.Text));
        Assert.All(tight, r => Assert.Contains(r.Text, Choices));
    }

    [Fact]
    public void AGrammarDeferredToATokenLeavesTheOutputFreeUpToAndIncludingIt()
    {
        // What a reasoning parser asks for: free text (the reasoning) until the model generates a token (</think>), then the
        // grammar. Here the token is the third of the free greedy output: the first three tokens are the free ones, the rest is
        // the constrained greedy continuation of prompt + those three, computed with the grammar from the start.
        using var llm = Stories();
        var tok = llm.Engine.Tokenizer;
        var prompt = tok.Encode("Once upon a time");
        var free = llm.Generate([prompt], SamplingParams.Greedy(12))[0].OutputIds;
        int after = free[2];
        Assert.DoesNotContain(after, free[..2]); // so the third token is the first time it is generated
        var deferred = llm.Generate([prompt], SamplingParams.Greedy(64) with
        {
            StructuredOutput = StructuredOutput.Choice(Choices),
            StructuredOutputAfterTokenId = after,
        })[0];
        var continuation = llm.Generate([[.. prompt, .. free[..3]]], SamplingParams.Greedy(64) with { StructuredOutput = StructuredOutput.Choice(Choices) })[0];
        Assert.Equal([.. free[..3], .. continuation.OutputIds], deferred.OutputIds);
        Assert.Contains(continuation.Text, Choices);
        Assert.Equal(FinishReason.Stop, deferred.FinishReason);

        // A token the model never generates: the output is the free one, cut at max_tokens.
        int never = Enumerable.Range(0, llm.Engine.ModelConfig.VocabSize).First(id => !free.Contains(id) && !tok.IsControl(id));
        var unconstrained = llm.Generate([prompt], SamplingParams.Greedy(12) with
        {
            StructuredOutput = StructuredOutput.Choice(Choices),
            StructuredOutputAfterTokenId = never,
        })[0];
        Assert.Equal(free, unconstrained.OutputIds);

        // Refused: a deferral without a structured output, or past the vocabulary.
        var alone = Assert.Throws<ArgumentException>(() => llm.Engine.AddRequest("x", prompt, SamplingParams.Greedy(8) with { StructuredOutputAfterTokenId = 5 }));
        Assert.Contains("needs a structured output", alone.Message);
        var outside = Assert.Throws<ArgumentException>(() => llm.Engine.AddRequest("y", prompt, SamplingParams.Greedy(8) with
        {
            StructuredOutput = StructuredOutput.Choice(Choices),
            StructuredOutputAfterTokenId = llm.Engine.ModelConfig.VocabSize,
        }));
        Assert.Contains("outside the vocabulary", outside.Message);
        Assert.False(llm.Engine.HasUnfinishedRequests);
    }

    [Fact]
    public void BadSpecificationsAreRefusedNamingTheProblem()
    {
        using var llm = Stories();
        var prompt = llm.Engine.Tokenizer.Encode("Once upon a time");
        var empty = Assert.Throws<ArgumentException>(() => llm.Engine.AddRequest("a", prompt, SamplingParams.Greedy(8) with { StructuredOutput = StructuredOutput.Choice([]) }));
        Assert.Contains("choice list is empty", empty.Message);
        var nothing = Assert.Throws<ArgumentException>(() => llm.Engine.AddRequest("b", prompt, SamplingParams.Greedy(8) with { StructuredOutput = StructuredOutput.Choice([""]) }));
        Assert.Contains("only empty text", nothing.Message);
        Assert.False(llm.Engine.HasUnfinishedRequests);
    }

    /// <summary>
    /// Greedy decoding one token at a time with unconstrained engine calls, every token whose text would leave the allowed
    /// texts banned through logit_bias (−100), and the stop tokens banned until the text is complete.
    /// </summary>
    internal static int[] Reference(Llm llm, int[] prompt, Func<string, bool> isPrefix, Func<string, bool> isComplete, int maxTokens = 64)
    {
        var tok = llm.Engine.Tokenizer;
        int vocab = llm.Engine.ModelConfig.VocabSize;
        var output = new List<int>();
        string text = "";
        while (output.Count < maxTokens)
        {
            var bias = new Dictionary<int, float>();
            for (int id = 0; id < vocab; id++)
            {
                bool allowed = id < tok.VocabSize && (tok.TokenBytes(id) is { } bytes
                    ? isPrefix(text + System.Text.Encoding.UTF8.GetString(bytes))
                    : id == tok.EosId && isComplete(text));
                if (!allowed) bias[id] = -SamplingParams.MaxLogitBias;
            }
            int next = llm.Generate([[.. prompt, .. output]], SamplingParams.Greedy(1) with { LogitBias = bias })[0].OutputIds[0];
            if (next == tok.EosId) break;
            output.Add(next);
            text += System.Text.Encoding.UTF8.GetString(tok.TokenBytes(next)!);
            if (isComplete(text) && !isPrefixOfLonger(text)) break;
        }
        return [.. output];

        bool isPrefixOfLonger(string t)
        {
            for (int id = 0; id < tok.VocabSize; id++)
                if (tok.TokenBytes(id) is { } b && isPrefix(t + System.Text.Encoding.UTF8.GetString(b))) return true;
            return false;
        }
    }
}
