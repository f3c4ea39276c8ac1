// A serving context below max_position_embeddings limits the positions the model is built for: same logits inside, a clear
// error past the end, and the config reports the limit.
using Estuary.Testing;

namespace Estuary.Models.Tests.Architectures;

public class PositionCapTests
{
    [Fact]
    public void ACappedRopeModelGivesTheSameLogitsAndRefusesPositionsPastTheCap()
    {
        const int cap = 12;
        var dir = Fixtures.Path("stories260k");
        using var full = new ModelHarness(dir);
        using var capped = new ModelHarness(dir, maxPositions: cap);
        Assert.True(full.Model.Config.MaxPositions > cap);
        Assert.Equal(cap, capped.Model.Config.MaxPositions);

        int[] ids = [1, 403, 407, 261, 378, 411, 285, 289, 294, 346, 436, 261];
        var expected = full.AllLogits(ids);
        var actual = capped.AllLogits(ids);
        for (int t = 0; t < ids.Length; t++) Assert.Equal(expected[t], actual[t]);

        var e = Assert.ThrowsAny<ArgumentException>(() => capped.AllLogits([.. ids, 300]));
        Assert.Contains($"{cap} positions", e.Message);
    }

    [Fact]
    public void ACapAboveTheModelsPositionsChangesNothingAndANonPositiveCapIsRefused()
    {
        var dir = Fixtures.Path("stories260k");
        using var full = new ModelHarness(dir);
        using var loose = new ModelHarness(dir, maxPositions: full.Model.Config.MaxPositions * 4);
        Assert.Equal(full.Model.Config.MaxPositions, loose.Model.Config.MaxPositions);
        using var backend = new Estuary.Backend.Cpu.CpuBackend(1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ModelLoader.Load(dir, backend, maxPositions: 0));
        Assert.Contains("maxPositions", e.Message);
    }
}
