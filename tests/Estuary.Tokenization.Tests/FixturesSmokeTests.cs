using Estuary.Testing;

namespace Estuary.Tokenization.Tests;

public class FixturesSmokeTests
{
    [Fact]
    public void FixturesAreFound() => Assert.True(File.Exists(Fixtures.Path("README.md")));
}
