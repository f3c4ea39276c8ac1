using Estuary.Testing;

namespace Estuary.Cli.Tests;

public class FixturesSmokeTests
{
    [Fact]
    public void FixturesAreFound() => Assert.True(File.Exists(Fixtures.Path("README.md")));
}
