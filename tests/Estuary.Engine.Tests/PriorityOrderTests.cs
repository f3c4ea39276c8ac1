// vLLM's priority scheduling (RequestOrder.Priority): lower priority values are admitted first, arrival order among equals;
// when blocks run out the least urgent running request is preempted, even an older one scheduled earlier in the step; outputs
// stay what each request gives alone; a priority under first-come-first-served is refused naming the field.
using Estuary.Engine.Scheduling;
using Estuary.Testing;

namespace Estuary.Engine.Tests;

public class PriorityOrderTests
{
    private static List<string> FinishOrder(LlmEngine engine)
    {
        var finished = new List<string>();
        while (engine.HasUnfinishedRequests)
            foreach (var o in engine.Step())
                if (o.Finished) finished.Add(o.RequestId);
        return finished;
    }

    [Fact]
    public void WaitingRequestsAreAdmittedByPriorityThenArrival()
    {
        using var llm = Llm.Load(Fixtures.Path("stories260k"), new EngineConfig { MaxNumSeqs = 1, Order = RequestOrder.Priority });
        var prompt = llm.Engine.Tokenizer.Encode("Once upon a time");
        foreach (var (id, priority) in new[] { ("a", 0), ("b", 5), ("c", -1), ("d", 5), ("e", 0) })
            llm.Engine.AddRequest(id, prompt, SamplingParams.Greedy(3) with { IgnoreEos = true, Priority = priority });
        Assert.Equal(["c", "a", "e", "b", "d"], FinishOrder(llm.Engine));

        using var fcfs = Llm.Load(Fixtures.Path("stories260k"), new EngineConfig { MaxNumSeqs = 1 });
        foreach (var id in new[] { "a", "b", "c" }) fcfs.Engine.AddRequest(id, prompt, SamplingParams.Greedy(3) with { IgnoreEos = true });
        Assert.Equal(["a", "b", "c"], FinishOrder(fcfs.Engine));
    }

    [Theory]
    [InlineData(RequestOrder.Priority)]
    [InlineData(RequestOrder.Fcfs)]
    public void TheLeastUrgentRunningRequestIsPreempted(RequestOrder order)
    {
        // 8 blocks of 4 tokens: either request alone fits (8 or 12 + 20 tokens = 7 or 8 blocks), both together do not.
        var config = new EngineConfig { BlockSize = 4, NumKvBlocks = 8, MaxNumSeqs = 2, EnablePrefixCaching = false, Order = order };
        using var roomy = Llm.Load(Fixtures.Path("stories260k"));
        var tokenizer = roomy.Engine.Tokenizer;
        var older = tokenizer.Encode("Once upon a time there was a")[..8];
        var newer = tokenizer.Encode("The dog ran to the big park")[..12]; // needs its next block before the older one does
        var sampling = SamplingParams.Greedy(20) with { IgnoreEos = true };
        var alone = roomy.Generate([older, newer], sampling); // with room for both: no preemption
        using var fresh = Llm.Load(Fixtures.Path("stories260k"), config);
        int olderPriority = order == RequestOrder.Priority ? 1 : 0;
        var olderSeq = fresh.Engine.AddRequest("older", older, sampling with { Priority = olderPriority });
        var outputs = new Dictionary<string, List<int>> { ["older"] = [], ["newer"] = [] };
        // The older request runs first, so under priority order its preemption takes back tokens already scheduled in the step.
        foreach (var o in fresh.Engine.Step()) outputs[o.RequestId].AddRange(o.NewTokenIds);
        var newerSeq = fresh.Engine.AddRequest("newer", newer, sampling);
        while (fresh.Engine.HasUnfinishedRequests)
            foreach (var o in fresh.Engine.Step()) outputs[o.RequestId].AddRange(o.NewTokenIds);
        Assert.True(fresh.Engine.Stats.NumPreemptions > 0);
        // FCFS preempts the newest; priority the less urgent one, here the older request (priority 1 against 0).
        var (victim, kept) = order == RequestOrder.Priority ? (olderSeq, newerSeq) : (newerSeq, olderSeq);
        Assert.True(victim.NumPreemptions > 0);
        Assert.Equal(0, kept.NumPreemptions);
        Assert.Equal(alone[0].OutputIds, outputs["older"]);
        Assert.Equal(alone[1].OutputIds, outputs["newer"]);
        Assert.Equal(fresh.Engine.NumKvBlocks, fresh.Engine.Stats.NumFreeKvBlocks);
    }

    [Fact]
    public void APriorityNeedsThePriorityOrder()
    {
        using var llm = Llm.Load(Fixtures.Path("stories260k"));
        var errors = llm.Engine.ValidateRequest([1, 2], SamplingParams.Greedy() with { Priority = 3 });
        Assert.Contains(errors, e => e.StartsWith("priority", StringComparison.Ordinal));
        Assert.Empty(llm.Engine.ValidateRequest([1, 2], SamplingParams.Greedy() with { Priority = 0 }));
    }
}
