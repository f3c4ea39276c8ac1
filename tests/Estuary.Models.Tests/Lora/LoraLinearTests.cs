// Unmerged LoRA in the model forward: per-row adapter ids select the delta; rows of the base model stay exactly the base output.
using Estuary.Backend.Cpu;
using Estuary.Models.Lora;
using Estuary.Models.Tests.Architectures;
using Estuary.Tensors;
using Estuary.Testing;

namespace Estuary.Models.Tests.Lora;

public sealed class LoraLinearTests
{
    [Fact]
    public void MixedRowsGetTheirOwnAdapterAndMatchTheMergedReference()
    {
        using var reference = Fixtures.Json("lora", "reference.json");
        var c = reference.RootElement.GetProperty("cases")[0];
        var prompt = Fixtures.Ints(c.GetProperty("prompt_ids"));
        using var backend = new CpuBackend(2);
        using var model = ModelLoader.Load(TestAdapters.BaseDir, backend);
        using var baseOnly = new ModelHarness(TestAdapters.BaseDir);
        var baseLogits = baseOnly.AllLogits(prompt)[^1];
        using var loras = LoraSet.Attach(model, [new("bible", TestAdapters.FixtureDir)]);
        Assert.IsType<LoraLinear>(model.Layers[1].Attention.VProj);
        Assert.IsType<LoraLinear>(model.Layers[0].Mlp.Down);

        // Two copies of the prompt in one batch: sequence 0 on the base model, sequence 1 with the adapter.
        int n = prompt.Length, blocks = (n + 3) / 4;
        var cfg = model.Config;
        using var kv = backend.AllocateKvCache(new KvCacheSpec(cfg.NumLayers, 2 * blocks, 4, cfg.NumKvHeads, cfg.HeadDim));
        var b = new ForwardBatch(2 * n, 2, blocks, 4) { NumTokens = 2 * n, NumSeqs = 2, NumLogitsRows = 2 };
        for (int s = 0; s < 2; s++)
        {
            for (int p = 0; p < n; p++)
            {
                int t = s * n + p;
                b.TokenIds[t] = prompt[p];
                b.Positions[t] = p;
                b.SlotMapping[t] = (s * blocks + p / 4) * 4 + p % 4;
                b.LoraIds[t] = s;
            }
            b.QueryStarts[s] = s * n;
            b.SeqLens[s] = n;
            for (int i = 0; i < blocks; i++) b.BlockTables[s * blocks + i] = s * blocks + i;
        }
        b.QueryStarts[2] = 2 * n;
        var hidden = model.Forward(b, kv);
        var last = backend.Allocate(2, cfg.HiddenSize);
        backend.GatherRows(hidden, [n - 1, 2 * n - 1], last);
        var logits = backend.Allocate(2, cfg.VocabSize);
        model.ComputeLogits(last, logits);
        var host = new float[2 * cfg.VocabSize];
        backend.Download(logits, host);

        Assert.Equal(baseLogits, host.AsSpan(0, cfg.VocabSize).ToArray());
        ReferenceLogitsTests.AssertClose(Fixtures.Floats(c.GetProperty("merged_logits_last_prompt_position")),
            host.AsSpan(cfg.VocabSize).ToArray(), "unmerged adapter row");
    }

    [Fact]
    public void AdaptersThatCannotBeServedUnmergedAreRefusedAndLeaveTheModelAlone()
    {
        using var backend = new CpuBackend(1);
        using var llama = ModelLoader.Load(Fixtures.Path("stories260k"), backend);
        var e = Assert.Throws<Estuary.Models.Loading.CheckpointException>(() => LoraSet.Attach(llama, [new("x", TestAdapters.FixtureDir)]));
        Assert.Contains("W_pack", e.Message);
        Assert.IsType<Estuary.Models.Layers.Linear>(llama.Layers[0].Attention.QProj);

        using var baichuan = ModelLoader.Load(TestAdapters.BaseDir, backend);
        Assert.Throws<ArgumentException>(() => LoraSet.Attach(baichuan, [new("a", TestAdapters.FixtureDir), new("a", TestAdapters.FixtureDir)]));
        Assert.IsType<Estuary.Models.Layers.Linear>(baichuan.Layers[0].Attention.QProj);
    }
}
