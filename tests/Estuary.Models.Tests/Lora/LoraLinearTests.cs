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
    public void SeveralAdaptersInOneBatchGiveTheSameLogitsWhetherCombinedInOneCallOrRunPerAdapter()
    {
        using var reference = Fixtures.Json("lora", "reference.json");
        var c = reference.RootElement.GetProperty("cases")[0];
        var prompt = Fixtures.Ints(c.GetProperty("prompt_ids"));
        // Sequences: base, adapter "a", adapter "b" (the same fixture adapter loaded twice), adapter "a" again.
        int[] adapterOfSeq = [0, 1, 2, 1];
        float[] Run(int threads)
        {
            using var backend = new CpuBackend(threads);
            using var model = ModelLoader.Load(TestAdapters.BaseDir, backend);
            using var loras = LoraSet.Attach(model, [new("a", TestAdapters.FixtureDir), new("b", TestAdapters.FixtureDir)]);
            return LastLogits(backend, model, prompt, adapterOfSeq);
        }
        var combined = Run(threads: 2); // 2 adapters ≥ 2 threads: one TryAddLoraDeltas call per linear
        var separate = Run(threads: 3); // fewer adapters than threads: per-adapter gather, matmuls and add
        Assert.Equal(combined.Select(BitConverter.SingleToInt32Bits), separate.Select(BitConverter.SingleToInt32Bits));

        using var baseOnly = new ModelHarness(TestAdapters.BaseDir);
        int v = combined.Length / adapterOfSeq.Length;
        Assert.Equal(baseOnly.AllLogits(prompt)[^1], combined.AsSpan(0, v).ToArray());
        var merged = Fixtures.Floats(c.GetProperty("merged_logits_last_prompt_position"));
        for (int s = 1; s < adapterOfSeq.Length; s++)
            ReferenceLogitsTests.AssertClose(merged, combined.AsSpan(s * v, v).ToArray(), $"sequence {s} (adapter {adapterOfSeq[s]})");
        Assert.Equal(combined.AsSpan(v, v).ToArray(), combined.AsSpan(2 * v, v).ToArray());
    }

    // The last prompt position's logits of each sequence, all sequences (the same prompt, one adapter id each) in one forward.
    private static float[] LastLogits(CpuBackend backend, CausalLm model, int[] prompt, int[] adapterOfSeq)
    {
        int n = prompt.Length, blocks = (n + 3) / 4, seqs = adapterOfSeq.Length;
        var cfg = model.Config;
        using var kv = backend.AllocateKvCache(new KvCacheSpec(cfg.NumLayers, seqs * blocks, 4, cfg.NumKvHeads, cfg.HeadDim));
        var b = new ForwardBatch(seqs * n, seqs, blocks, 4) { NumTokens = seqs * n, NumSeqs = seqs, NumLogitsRows = seqs };
        var lastRows = new int[seqs];
        for (int s = 0; s < seqs; s++)
        {
            for (int p = 0; p < n; p++)
            {
                int t = s * n + p;
                b.TokenIds[t] = prompt[p];
                b.Positions[t] = p;
                b.SlotMapping[t] = (s * blocks + p / 4) * 4 + p % 4;
                b.LoraIds[t] = adapterOfSeq[s];
            }
            b.QueryStarts[s] = s * n;
            b.SeqLens[s] = n;
            for (int i = 0; i < blocks; i++) b.BlockTables[s * blocks + i] = s * blocks + i;
            lastRows[s] = s * n + n - 1;
        }
        b.QueryStarts[seqs] = seqs * n;
        var hidden = model.Forward(b, kv);
        var last = backend.Allocate(seqs, cfg.HiddenSize);
        backend.GatherRows(hidden, lastRows, last);
        var logits = backend.Allocate(seqs, cfg.VocabSize);
        model.ComputeLogits(last, logits);
        var host = new float[seqs * cfg.VocabSize];
        backend.Download(logits, host);
        return host;
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
