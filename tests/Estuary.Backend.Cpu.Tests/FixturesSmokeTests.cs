using Estuary.Testing;

namespace Estuary.BackendCpu.Tests;

public class FixturesSmokeTests
{
    [Fact]
    public void FixturesAreFound() => Assert.True(File.Exists(Fixtures.Path("README.md")));
}
