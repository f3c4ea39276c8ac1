// The engine flags shared by serve, chat, generate and the benchmarks: names people bring from vLLM and TensorRT-LLM, and
// contradictions refused with a message that names the flags.
using System.CommandLine;
using Estuary.Cli.Hosting;
using Estuary.Engine.Scheduling;

namespace Estuary.Cli.Tests;

public class EngineOptionsTests
{
    private static Estuary.Engine.EngineConfig Parse(params string[] args)
    {
        var options = new EngineOptions();
        var command = new RootCommand();
        options.AddTo(command);
        var result = command.Parse(args);
        Assert.Empty(result.Errors);
        return options.ToConfig(result);
    }

    [Fact]
    public void SchedulerPolicyIsAnAliasOfSchedulingPolicy()
    {
        Assert.Equal(SchedulingPolicy.GuaranteedNoEvict, Parse("--scheduler-policy", "guaranteed_no_evict").Policy);
        Assert.Equal(SchedulingPolicy.GuaranteedNoEvict, Parse("--scheduling-policy", "guaranteed_no_evict").Policy);
        Assert.Equal(SchedulingPolicy.MaxUtilization, Parse().Policy);
    }

    [Fact]
    public void PrefixCachingIsOnByDefaultAndEitherFlagTurnsItOff()
    {
        Assert.True(Parse().EnablePrefixCaching);
        Assert.True(Parse("--enable-prefix-caching").EnablePrefixCaching);
        Assert.True(Parse("--enable-prefix-caching", "true").EnablePrefixCaching);
        Assert.False(Parse("--enable-prefix-caching", "false").EnablePrefixCaching);
        Assert.False(Parse("--no-prefix-caching").EnablePrefixCaching);
        var e = Assert.Throws<UsageException>(() => Parse("--enable-prefix-caching", "--no-prefix-caching"));
        Assert.Contains("--no-prefix-caching", e.Message);
    }

    [Fact]
    public void KvCacheDTypeIsAutoByDefaultAndAcceptsSixteenBitTypes()
    {
        Assert.Null(Parse().KvCacheDType);
        Assert.Equal(Estuary.Tensors.DType.BF16, Parse("--kv-cache-dtype", "bfloat16").KvCacheDType);
        Assert.Equal(Estuary.Tensors.DType.F16, Parse("--kv-cache-dtype", "fp16").KvCacheDType);
        Assert.Equal(Estuary.Tensors.DType.F32, Parse("--kv-cache-dtype", "float32").KvCacheDType);
        var e = Assert.Throws<UsageException>(() => Parse("--kv-cache-dtype", "fp8"));
        Assert.Contains("--kv-cache-dtype", e.Message);
    }

    [Fact]
    public void LoraDTypeAcceptsAdapterOrAuto()
    {
        Assert.False(Parse().LoraInModelDType);
        Assert.True(Parse("--lora-dtype", "auto").LoraInModelDType);
        var e = Assert.Throws<UsageException>(() => Parse("--lora-dtype", "fp8"));
        Assert.Contains("--lora-dtype", e.Message);
    }

    [Fact]
    public void SpeculativeConfigReadsVllmsNgramJson()
    {
        Assert.Equal(0, Parse().NumSpeculativeTokens);
        var config = Parse("--speculative-config", """{"method": "ngram", "num_speculative_tokens": 5, "prompt_lookup_max": 3, "prompt_lookup_min": 1}""");
        Assert.Equal((5, 3, 1), (config.NumSpeculativeTokens, config.PromptLookupMax, config.PromptLookupMin));
        var defaults = Parse("--speculative-config", """{"method": "ngram", "num_speculative_tokens": 2}""");
        Assert.Equal((2, 4, 2), (defaults.NumSpeculativeTokens, defaults.PromptLookupMax, defaults.PromptLookupMin));
        Assert.Null(defaults.SpeculativeDisableBySize);
        Assert.Equal(4, Parse("--speculative-config", """{"method": "ngram", "num_speculative_tokens": 2, "disable_by_batch_size": 4}""").SpeculativeDisableBySize);
        Assert.Contains("'eagle'", Assert.Throws<UsageException>(() => Parse("--speculative-config", """{"method": "eagle", "num_speculative_tokens": 2}""")).Message);
        Assert.Contains("'model'", Assert.Throws<UsageException>(() => Parse("--speculative-config", """{"method": "ngram", "model": "x", "num_speculative_tokens": 2}""")).Message);
        Assert.Contains("num_speculative_tokens", Assert.Throws<UsageException>(() => Parse("--speculative-config", """{"method": "ngram"}""")).Message);
        Assert.Contains("--speculative-config", Assert.Throws<UsageException>(() => Parse("--speculative-config", "ngram")).Message);
    }

    [Fact]
    public void MaxLogprobsDefaultsToTwentyAsInVllmAndMinusOneLiftsTheCap()
    {
        Assert.Equal(20, Parse().MaxLogprobs);
        Assert.Equal(5, Parse("--max-logprobs", "5").MaxLogprobs);
        Assert.Empty(Parse("--max-logprobs", "-1").Validate());
        Assert.Contains(Parse("--max-logprobs", "-2").Validate(), e => e.StartsWith("max_logprobs", StringComparison.Ordinal));
    }

    [Fact]
    public void SchedulingPolicyTakesVllmOrdersAloneOrWithACapacityPolicy()
    {
        Assert.Equal(RequestOrder.Fcfs, Parse().Order);
        var priority = Parse("--scheduling-policy", "priority");
        Assert.Equal((SchedulingPolicy.MaxUtilization, RequestOrder.Priority), (priority.Policy, priority.Order));
        Assert.Equal(RequestOrder.Fcfs, Parse("--scheduling-policy", "fcfs").Order);
        var both = Parse("--scheduling-policy", "guaranteed_no_evict,priority");
        Assert.Equal((SchedulingPolicy.GuaranteedNoEvict, RequestOrder.Priority), (both.Policy, both.Order));
        Assert.Equal(RequestOrder.Fcfs, Parse("--scheduling-policy", "guaranteed_no_evict").Order);
        Assert.Contains("--scheduling-policy", Assert.Throws<UsageException>(() => Parse("--scheduling-policy", "fcfs,priority")).Message);
        Assert.Contains("--scheduling-policy", Assert.Throws<UsageException>(() => Parse("--scheduling-policy", "lifo")).Message);
        Assert.Contains("--scheduling-policy", Assert.Throws<UsageException>(() => Parse("--scheduling-policy", ",")).Message);
    }
}
