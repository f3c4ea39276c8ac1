// Every fixture model, loaded through the real loader, reproduces the reference logits (fp32 tolerance) and per-position argmax.
using System.Text.Json;
using Estuary.Testing;

namespace Estuary.Models.Tests.Architectures;

public class ReferenceLogitsTests
{
    private const float Tolerance = 1e-3f;

    public static TheoryData<string> Models => new() { "stories260k", "baichuan2-tiny-rope", "baichuan2-tiny-alibi", "baichuan2-bible-256" };

    [Theory]
    [MemberData(nameof(Models))]
    public void TeacherForcedLogitsMatchReference(string model)
    {
        using var reference = Fixtures.Json(model, "reference.json");
        using var harness = new ModelHarness(Fixtures.Path(model));
        foreach (var c in reference.RootElement.GetProperty("cases").EnumerateArray())
        {
            var name = c.GetProperty("name").GetString();
            var prompt = Ints(c.GetProperty("prompt_ids"));
            var generated = Ints(c.GetProperty("greedy").GetProperty("generated_ids"));
            int[] all = [.. prompt, .. generated];
            var logits = harness.AllLogits(all);
            var argmax = Ints(c.GetProperty("argmax_all_positions"));
            Assert.Equal(all.Length, argmax.Length);
            for (int p = 0; p < all.Length; p++)
                Assert.True(argmax[p] == ArgMax(logits[p]), $"{model}/{name}: argmax differs at position {p}");
            foreach (var step in c.GetProperty("logits_by_step").EnumerateArray())
            {
                int position = step.GetProperty("position").GetInt32();
                AssertClose(Floats(step.GetProperty("logits")), logits[position], $"{model}/{name} position {position}");
            }
            if (c.TryGetProperty("logits_all_prompt_positions", out var allPrompt))
            {
                int p = 0;
                foreach (var row in allPrompt.EnumerateArray()) AssertClose(Floats(row), logits[p++], $"{model}/{name} prompt position {p - 1}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ChunkedPrefillGivesTheSameLogits(string model)
    {
        using var reference = Fixtures.Json(model, "reference.json");
        using var harness = new ModelHarness(Fixtures.Path(model));
        var c = reference.RootElement.GetProperty("cases")[1];
        var prompt = Ints(c.GetProperty("prompt_ids"));
        var whole = harness.AllLogits(prompt);
        var chunked = harness.AllLogits(prompt, chunk: 3);
        for (int p = 0; p < prompt.Length; p++) AssertClose(whole[p], chunked[p], $"{model} position {p}", 1e-4f);
    }

    internal static void AssertClose(float[] expected, float[] actual, string where, float tolerance = Tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            float d = MathF.Abs(expected[i] - actual[i]);
            if (!(d <= worst)) { worst = d; worstAt = i; }
        }
        Assert.True(worst <= tolerance, $"{where}: max |Δlogit| = {worst} at vocab id {worstAt} (tolerance {tolerance})");
    }

    internal static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    internal static int[] Ints(JsonElement e) => Fixtures.Ints(e);

    internal static float[] Floats(JsonElement e) => Fixtures.Floats(e);
}
