// Bad requests fail clearly without side effects; aborts and cancelled streams free KV blocks at once; streaming deltas add up.
using Estuary.Testing;

namespace Estuary.Engine.Tests;

public class RequestLifecycleTests
{
    [Fact]
    public void PromptLongerThanTheContextIsRejectedWithoutSideEffects()
    {
        using var engine = LlmEngine.Load(Fixtures.Path("stories260k"));
        var tooLong = Enumerable.Repeat(300, engine.MaxModelLen + 5).ToArray();
        var e = Assert.Throws<ArgumentException>(() => engine.AddRequest("long", tooLong, SamplingParams.Greedy(4)));
        Assert.Contains("context length", e.Message);
        Assert.False(engine.HasUnfinishedRequests);
        Assert.Equal(engine.NumKvBlocks, engine.Stats.NumFreeKvBlocks);
        Assert.Throws<ArgumentException>(() => engine.AddRequest("bad-id", [1, 99999], SamplingParams.Greedy(4)));
        Assert.Throws<ArgumentException>(() => engine.AddRequest("empty", [], SamplingParams.Greedy(4)));
        var badParams = Assert.Throws<ArgumentException>(() => engine.AddRequest("p", [1, 2], new SamplingParams { TopP = 5 }));
        Assert.Contains("top_p", badParams.Message);
    }

    [Fact]
    public void GenerationStopsAtTheContextLimit()
    {
        using var engine = LlmEngine.Load(Fixtures.Path("stories260k"), new EngineConfig { MaxModelLen = 40 });
        engine.AddRequest("r", [1, 400, 500], SamplingParams.Greedy(null) with { IgnoreEos = true });
        RequestOutput? last = null;
        while (engine.HasUnfinishedRequests) foreach (var o in engine.Step()) last = o;
        Assert.Equal(FinishReason.Length, last!.FinishReason);
        Assert.Equal(37, last.NumOutputTokens);
        Assert.Equal(40, engine.Model.Config.MaxPositions); // the model (its RoPE table) is built for the serving context only
    }

    [Fact]
    public void StatsCountPromptTokensComputedAndTokensGenerated()
    {
        using var engine = LlmEngine.Load(Fixtures.Path("stories260k"), new EngineConfig { BlockSize = 4, MaxNumBatchedTokens = 8 });
        int[] prompt = [1, 400, 500, 300, 301, 302, 303, 304, 305, 306, 307, 308, 309]; // 13 tokens: two prefill chunks of ≤ 8
        engine.AddRequest("a", prompt, SamplingParams.Greedy(5) with { IgnoreEos = true });
        while (engine.HasUnfinishedRequests) engine.Step();
        Assert.Equal(13, engine.Stats.NumPromptTokensComputed);
        Assert.Equal(5, engine.Stats.NumGeneratedTokens);
        // The same prompt again: its full blocks come from the prefix cache, so only the rest is computed.
        engine.AddRequest("b", prompt, SamplingParams.Greedy(2) with { IgnoreEos = true });
        while (engine.HasUnfinishedRequests) engine.Step();
        Assert.InRange(engine.Stats.NumPromptTokensComputed - 13, 1, 4);
        Assert.Equal(7, engine.Stats.NumGeneratedTokens);
    }

    [Fact]
    public void AbortFreesBlocksImmediately()
    {
        using var engine = LlmEngine.Load(Fixtures.Path("stories260k"), new EngineConfig { BlockSize = 4 });
        engine.AddRequest("a", [1, 400, 500, 300, 301, 302], SamplingParams.Greedy(100) with { IgnoreEos = true });
        engine.AddRequest("b", [1, 401, 501], SamplingParams.Greedy(100) with { IgnoreEos = true });
        for (int i = 0; i < 10; i++) engine.Step();
        Assert.True(engine.Stats.NumFreeKvBlocks < engine.NumKvBlocks);
        Assert.True(engine.Abort("a"));
        Assert.True(engine.Abort("b"));
        Assert.False(engine.Abort("b"));
        Assert.False(engine.HasUnfinishedRequests);
        Assert.Equal(engine.NumKvBlocks, engine.Stats.NumFreeKvBlocks);
    }

    [Fact]
    public async Task StreamingDeltasAddUpToTheOfflineText()
    {
        var reference = ReferenceCases.Load("stories260k")[1];
        using var engine = new AsyncLlmEngine(LlmEngine.Load(Fixtures.Path("stories260k")));
        var sampling = SamplingParams.Greedy(reference.GreedyIds.Length) with { IgnoreEos = true };
        var streams = Enumerable.Range(0, 4).Select(async _ =>
        {
            var text = new System.Text.StringBuilder();
            var ids = new List<int>();
            await foreach (var o in engine.Generate(reference.PromptIds, sampling))
            {
                text.Append(o.NewText);
                ids.AddRange(o.NewTokenIds);
            }
            return (text.ToString(), ids);
        }).ToArray();
        var results = await Task.WhenAll(streams);
        var expectedText = reference.GreedyText; // the continuation's text after the prompt (keeps its leading space)
        foreach (var (text, ids) in results)
        {
            Assert.Equal(reference.GreedyIds, ids);
            Assert.Equal(expectedText, text);
        }
    }

    [Fact]
    public async Task CancellingAStreamFreesItsBlocks()
    {
        using var engine = new AsyncLlmEngine(LlmEngine.Load(Fixtures.Path("stories260k"), new EngineConfig { BlockSize = 4 }));
        using var cts = new CancellationTokenSource();
        int received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var o in engine.Generate([1, 400, 500], SamplingParams.Greedy(400) with { IgnoreEos = true }, cancellationToken: cts.Token))
            {
                if (++received == 5) await cts.CancelAsync();
            }
        });
        // The abort is applied by the loop thread between steps; wait for it (bounded).
        for (int i = 0; i < 200 && engine.Stats.NumFreeKvBlocks != engine.Stats.NumKvBlocks; i++) await Task.Delay(10);
        Assert.Equal(engine.Stats.NumKvBlocks, engine.Stats.NumFreeKvBlocks);
        Assert.Equal(0, engine.Stats.NumRunning);
    }

    [Fact]
    public void AsyncRejectsBadInputBeforeStreaming()
    {
        using var engine = new AsyncLlmEngine(LlmEngine.Load(Fixtures.Path("stories260k")));
        var e = Assert.Throws<ArgumentException>(() => engine.Generate(new int[600], SamplingParams.Greedy(4)));
        Assert.Contains("context length", e.Message);
    }

    [Fact]
    public async Task AStreamNeverReadIsAbortedWhenItsTokenIsCancelled()
    {
        // A caller that starts a request and then fails before reading it must not leave the request running to max_tokens.
        using var engine = new AsyncLlmEngine(LlmEngine.Load(Fixtures.Path("stories260k")));
        using var cts = new CancellationTokenSource();
        _ = engine.Generate([1, 400, 500], SamplingParams.Greedy(400) with { IgnoreEos = true }, cancellationToken: cts.Token);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (engine.Stats.NumRunning == 0 && DateTime.UtcNow < deadline) await Task.Delay(5);
        Assert.Equal(1, engine.Stats.NumRunning); // it started although nobody reads it
        cts.Cancel();
        while ((engine.Stats.NumRunning > 0 || engine.Stats.NumFreeKvBlocks != engine.Stats.NumKvBlocks) && DateTime.UtcNow < deadline)
            await Task.Delay(5);
        Assert.Equal(0, engine.Stats.NumRunning);
        Assert.Equal(engine.Stats.NumKvBlocks, engine.Stats.NumFreeKvBlocks);
        Assert.True(engine.Stats.NumSteps < 400, $"it ran to the end: {engine.Stats}");
    }

    [Fact]
    public void QueueTimeIsMeasuredFromArrivalToFirstAdmission()
    {
        using var engine = LlmEngine.Load(Fixtures.Path("stories260k"), new EngineConfig { MaxNumSeqs = 1 });
        engine.AddRequest("first", [1, 400, 500], SamplingParams.Greedy(20) with { IgnoreEos = true });
        engine.AddRequest("second", [1, 401, 501], SamplingParams.Greedy(20) with { IgnoreEos = true });
        var queue = new Dictionary<string, double>();
        while (engine.HasUnfinishedRequests)
            foreach (var o in engine.Step())
                if (o.QueueSeconds is { } q) queue.TryAdd(o.RequestId, q);
        Assert.True(queue["second"] > queue["first"], $"second waited {queue["second"]} s, first {queue["first"]} s");
        Assert.True(queue["first"] >= 0);
    }
}
