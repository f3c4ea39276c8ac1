// A Llama checkpoint whose config.json carries rope_scaling loads and runs end to end (stories260k with its config edited): scalings
// that change no frequency reproduce the unscaled reference logits, and a real factor changes every position but the first.
using System.Text.Json.Nodes;
using Estuary.Models.Config;
using Estuary.Testing;

namespace Estuary.Models.Tests.Architectures;

public sealed class RopeScalingModelTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("estuary-rope-scaling-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // stories260k (head dim 8, θ = 1, 0.1, 0.01, 0.001: wavelengths 6.3, 63, 628, 6283) with rope_scaling set to the given JSON.
    private string Stories(string name, string ropeScaling)
    {
        var dir = Path.Combine(_root, name);
        Directory.CreateDirectory(dir);
        var src = Fixtures.Path("stories260k");
        foreach (var f in Directory.GetFiles(src)) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        var path = Path.Combine(dir, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["rope_scaling"] = JsonNode.Parse(ropeScaling);
        File.WriteAllText(path, json.ToJsonString());
        return dir;
    }

    private static (int[] Ids, JsonNode Case) FirstCase()
    {
        using var reference = Fixtures.Json("stories260k", "reference.json");
        var c = reference.RootElement.GetProperty("cases")[0];
        int[] ids = [.. Fixtures.Ints(c.GetProperty("prompt_ids")), .. Fixtures.Ints(c.GetProperty("greedy").GetProperty("generated_ids"))];
        return (ids, JsonNode.Parse(c.GetRawText())!);
    }

    [Theory]
    [InlineData("""{"rope_type": "linear", "factor": 1.0}""", RopeScalingType.Linear)]
    [InlineData("""{"type": "linear", "factor": 1}""", RopeScalingType.Linear)]
    // original 1024 puts θ = 1 and 0.1 in the kept band, 0.01 in the blended band and 0.001 in the divided band.
    [InlineData("""{"rope_type": "llama3", "factor": 1.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 1024}""", RopeScalingType.Llama3)]
    [InlineData("""{"rope_type": "default"}""", RopeScalingType.Default)]
    public void ScalingThatChangesNoFrequencyGivesTheReferenceLogits(string ropeScaling, RopeScalingType type)
    {
        var (ids, c) = FirstCase();
        using var scaled = new ModelHarness(Stories("same", ropeScaling));
        Assert.Equal(type, scaled.Model.Config.RopeScaling.Type);
        var logits = scaled.AllLogits(ids);

        var argmax = c["argmax_all_positions"]!.AsArray().Select(n => (int)n!).ToArray();
        for (int p = 0; p < ids.Length; p++) Assert.Equal(argmax[p], ReferenceLogitsTests.ArgMax(logits[p]));
        foreach (var step in c["logits_by_step"]!.AsArray())
        {
            int position = (int)step!["position"]!;
            var expected = step["logits"]!.AsArray().Select(n => (float)n!).ToArray();
            ReferenceLogitsTests.AssertClose(expected, logits[position], $"{ropeScaling} position {position}");
        }

        using var plain = new ModelHarness(Fixtures.Path("stories260k"));
        var unscaled = plain.AllLogits(ids);
        // Llama3's blended frequency may sit one float32 ulp away (see RopeScaling); nothing else differs.
        for (int p = 0; p < ids.Length; p++) ReferenceLogitsTests.AssertClose(unscaled[p], logits[p], $"vs unscaled, position {p}", 1e-4f);
    }

    [Theory]
    [InlineData("""{"rope_type": "linear", "factor": 4.0}""")]
    [InlineData("""{"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 1024}""")]
    public void ARealFactorChangesTheLogitsAfterTheFirstPosition(string ropeScaling)
    {
        var (ids, _) = FirstCase();
        using var plain = new ModelHarness(Fixtures.Path("stories260k"));
        using var scaled = new ModelHarness(Stories("scaled", ropeScaling));
        var expected = plain.AllLogits(ids);
        var actual = scaled.AllLogits(ids);
        // Position 0 rotates by zero whatever the frequencies; every later position attends through rotated keys.
        ReferenceLogitsTests.AssertClose(expected[0], actual[0], "position 0", 1e-5f);
        float largest = 0;
        for (int p = 1; p < ids.Length; p++)
        {
            Assert.All(actual[p], v => Assert.True(float.IsFinite(v)));
            float worst = expected[p].Zip(actual[p], (a, b) => MathF.Abs(a - b)).Max();
            Assert.True(worst > 1e-5f, $"{ropeScaling}: position {p} is unchanged (max |Δlogit| {worst})");
            largest = MathF.Max(largest, worst);
        }
        Assert.True(largest > 0.1f, $"{ropeScaling}: the logits moved by at most {largest}");
        // Chunked prefill reads the same table: same logits.
        var chunked = scaled.AllLogits(ids, chunk: 3);
        for (int p = 0; p < ids.Length; p++) ReferenceLogitsTests.AssertClose(actual[p], chunked[p], $"chunked, position {p}", 1e-4f);
    }
}
