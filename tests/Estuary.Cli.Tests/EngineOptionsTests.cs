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
}
