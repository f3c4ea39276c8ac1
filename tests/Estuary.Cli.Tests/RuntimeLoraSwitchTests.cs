// vLLM's VLLM_ALLOW_RUNTIME_LORA_UPDATING turns serve's runtime LoRA updating on for "true" or "1" in any case, and for nothing else.
using Estuary.Cli.Commands;

namespace Estuary.Cli.Tests;

public class RuntimeLoraSwitchTests
{
    [Fact]
    public void OnlyTrueOrOneInAnyCaseTurnsItOn()
    {
        const string name = "VLLM_ALLOW_RUNTIME_LORA_UPDATING";
        var saved = Environment.GetEnvironmentVariable(name);
        try
        {
            foreach (var on in new[] { "true", "True", "TRUE", "1", " true " })
            {
                Environment.SetEnvironmentVariable(name, on);
                Assert.True(ServeCommand.RuntimeLoraUpdatingFromEnvironment(), on);
            }
            foreach (var off in new[] { "false", "0", "yes", "", "truee" })
            {
                Environment.SetEnvironmentVariable(name, off);
                Assert.False(ServeCommand.RuntimeLoraUpdatingFromEnvironment(), off);
            }
            Environment.SetEnvironmentVariable(name, null);
            Assert.False(ServeCommand.RuntimeLoraUpdatingFromEnvironment());
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, saved);
        }
    }
}
