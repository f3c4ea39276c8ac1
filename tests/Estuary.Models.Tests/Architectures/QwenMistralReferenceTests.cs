// The tiny Qwen2 / Qwen3 / Mistral / biased-Llama / Phi-3 checkpoints of Data/qwen-mistral, loaded through the real loader, reproduce the
// float64 references of scripts/qwen-mistral-references.py: every logit of every position within 1e-3, every argmax exactly.
using System.Text.Json;

namespace Estuary.Models.Tests.Architectures;

public class QwenMistralReferenceTests
{
    public static TheoryData<string> Models =>
        new() { "qwen2-tiny", "qwen2-tiny-window", "qwen3-tiny", "qwen3-tiny-bias", "mistral-tiny", "llama-tiny-bias", "phi3-tiny", "phi4-mini-tiny",
            "phi3-tiny-longrope-switch" };

    internal static string ModelDir(string model) => Path.Combine(AppContext.BaseDirectory, "Data", "qwen-mistral", model);

    internal static JsonDocument Reference(string model) =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(ModelDir(model), "reference.json")));

    [Theory]
    [MemberData(nameof(Models))]
    public void TeacherForcedLogitsMatchReference(string model)
    {
        using var reference = Reference(model);
        using var harness = new ModelHarness(ModelDir(model));
        foreach (var c in reference.RootElement.GetProperty("cases").EnumerateArray())
        {
            var (all, expected) = Case(c);
            var logits = harness.AllLogits(all);
            for (int p = 0; p < all.Length; p++)
            {
                ReferenceLogitsTests.AssertClose(expected[p], logits[p], $"{model}/{c.GetProperty("name")} position {p}");
                Assert.True(ReferenceLogitsTests.ArgMax(expected[p]) == ReferenceLogitsTests.ArgMax(logits[p]), $"{model}: argmax differs at position {p}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void TokenByTokenDecodeGivesTheGreedyContinuation(string model)
    {
        // One token per step through the paged cache (the decode path), so each generated id is the argmax after its prefix.
        using var reference = Reference(model);
        using var harness = new ModelHarness(ModelDir(model));
        foreach (var c in reference.RootElement.GetProperty("cases").EnumerateArray())
        {
            var prompt = ReferenceLogitsTests.Ints(c.GetProperty("prompt_ids"));
            var generated = ReferenceLogitsTests.Ints(c.GetProperty("generated_ids"));
            var (all, expected) = Case(c);
            var logits = harness.AllLogits(all, chunk: 1);
            var greedy = new int[generated.Length];
            for (int i = 0; i < generated.Length; i++) greedy[i] = ReferenceLogitsTests.ArgMax(logits[prompt.Length - 1 + i]);
            Assert.Equal(generated, greedy);
            for (int p = 0; p < all.Length; p++) ReferenceLogitsTests.AssertClose(expected[p], logits[p], $"{model} decode position {p}");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ChunkedPrefillGivesTheSameLogits(string model)
    {
        using var reference = Reference(model);
        using var harness = new ModelHarness(ModelDir(model));
        var (all, _) = Case(reference.RootElement.GetProperty("cases")[0]);
        var whole = harness.AllLogits(all);
        var chunked = harness.AllLogits(all, chunk: 3);
        for (int p = 0; p < all.Length; p++) ReferenceLogitsTests.AssertClose(whole[p], chunked[p], $"{model} position {p}", 1e-4f);
    }

    [Fact]
    public void WeightBytesCountBiasesAndQkNorms()
    {
        // Checked on a loaded model: the tiny Qwen3 with biases holds every stored tensor exactly once in WeightBytes.
        string dir = ModelDir("qwen3-tiny-bias");
        using var backend = new Estuary.Backend.Cpu.CpuBackend(1);
        using var model = ModelLoader.Load(dir, backend);
        long stored = 0;
        using (var reader = Estuary.Models.Loading.CheckpointIndex.Open(dir))
            foreach (var name in reader.Names) stored += reader.GetInfo(name).Shape.NumElements * 4; // F32
        Assert.Equal(stored, model.WeightBytes);
    }

    private static (int[] Ids, float[][] Logits) Case(JsonElement c)
    {
        int[] all = [.. ReferenceLogitsTests.Ints(c.GetProperty("prompt_ids")), .. ReferenceLogitsTests.Ints(c.GetProperty("generated_ids"))];
        var logits = c.GetProperty("logits_all_positions").EnumerateArray().Select(ReferenceLogitsTests.Floats).ToArray();
        Assert.Equal(all.Length, logits.Length);
        return (all, logits);
    }
}
