// Sweep workloads: random prompts give the warm-up and every level their own requests, so a prefix cache cannot carry prefills over.
using Estuary.Bench.Workloads;
using Estuary.Cli.Bench;

namespace Estuary.Cli.Tests;

public class SweepSettingsTests
{
    private static BenchRequest[] Prompts(int n) => [.. Enumerable.Range(0, n).Select(i => new BenchRequest(i, $"p{i}", [i], 4))];

    [Fact]
    public void EachLevelAndTheWarmupGetDisjointPrompts()
    {
        int[] levels = [1, 2, 4, 16];
        int needed = SweepSettings.PromptsNeeded(levels, perLevel: null, warmup: 1, rateMode: false);
        Assert.Equal(1 + 8 + 8 + 8 + 32, needed);
        var s = new SweepSettings(Prompts(needed), levels, null, 0, 1, 4, 4) { DisjointLevels = true };
        var seen = new HashSet<int>(s.WarmupWork.Select(r => r.Index));
        Assert.Single(seen);
        for (int i = 0; i < levels.Length; i++)
        {
            var work = s.WorkForLevel(i);
            Assert.Equal(SweepSettings.DefaultPrompts(levels[i]), work.Count);
            foreach (var r in work) Assert.True(seen.Add(r.Index), $"prompt {r.Index} reused at level {levels[i]}");
        }
        Assert.Equal(needed, seen.Count);
    }

    [Fact]
    public void FixedPromptsPerLevelAreDisjointToo()
    {
        int[] levels = [2, 2, 8];
        int needed = SweepSettings.PromptsNeeded(levels, perLevel: 5, warmup: 2, rateMode: false);
        Assert.Equal(2 + 15, needed);
        var s = new SweepSettings(Prompts(needed), levels, null, 0, 2, 4, 4) { PromptsPerLevel = 5, DisjointLevels = true };
        var all = Enumerable.Range(0, levels.Length).SelectMany(i => s.WorkForLevel(i)).Select(r => r.Index).ToArray();
        Assert.Equal(15, all.Length);
        Assert.Equal(15, all.Distinct().Count());
        Assert.DoesNotContain(0, all);
        Assert.DoesNotContain(1, all);
    }
}
