// The engine-core speed report: single-sequence decode, 8-sequence batched decode and prompt processing on one model,
// next to the machine's copy-bandwidth bound and FMA peak (measured in the same run).
using System.Diagnostics;
using Estuary.Engine;
using Estuary.Models;

namespace Estuary.Cli.Bench;

/// <summary>Results of one CPU benchmark run.</summary>
internal sealed record CpuBenchmarkResult(double CopyBandwidth, double FmaPeak, double FmaPeak256, long WeightBytesPerToken, double DecodeTokensPerSecond,
    double BatchDecodeTokensPerSecond, int BatchSize, double PromptTokensPerSecond, int PromptLength, double PrefillFlops)
{
    public double DecodeBoundTokensPerSecond => CopyBandwidth / WeightBytesPerToken;
    public double DecodeFractionOfBound => DecodeTokensPerSecond / DecodeBoundTokensPerSecond;
    public double BatchSpeedup => BatchDecodeTokensPerSecond / DecodeTokensPerSecond;
    public double PrefillFlopsPerSecond => PrefillFlops * PromptTokensPerSecond / PromptLength;
    public double PrefillFractionOfPeak => PrefillFlopsPerSecond / FmaPeak;
}

/// <summary>Runs the measurements.</summary>
internal static class CpuBenchmark
{
    public static CpuBenchmarkResult Run(LlmEngine engine, int threads, int decodeTokens, int batchSize, int promptLength, int repeats)
    {
        double copy = MachineProbe.CopyBandwidth(threads);
        double peak = MachineProbe.FmaPeak(threads);
        double peak256 = MachineProbe.FmaPeak256(threads);
        var model = (CausalLm)engine.Model;
        long bytesPerToken = model.WeightBytes - (ReferenceEquals(model.Head.Weight, model.Embedding.Table) ? 0 : model.Embedding.Table.ByteLength);
        var rng = new Random(7);
        double decode = Median(repeats, () => DecodeRate(engine, 1, decodeTokens, rng));
        double batch = Median(repeats, () => DecodeRate(engine, batchSize, decodeTokens, rng));
        double prompt = Median(repeats, () => PromptRate(engine, promptLength, rng));
        return new CpuBenchmarkResult(copy, peak, peak256, bytesPerToken, decode, batch, batchSize, prompt, promptLength, PrefillFlops(model, promptLength));
    }

    // Decode tokens/s over `tokens` steps once every sequence has finished its (short) prompt.
    internal static double DecodeRate(LlmEngine engine, int numSeqs, int tokens, Random rng)
    {
        var sampling = SamplingParams.Greedy(tokens + 1) with { IgnoreEos = true };
        for (int s = 0; s < numSeqs; s++) engine.AddRequest($"decode-{Guid.NewGuid():N}", RandomPrompt(engine, 16, rng), sampling);
        engine.Step(); // prefill of every sequence + first token
        var sw = Stopwatch.StartNew();
        int produced = 0;
        while (engine.HasUnfinishedRequests)
            foreach (var o in engine.Step()) produced += o.NewTokenIds.Count;
        return produced / sw.Elapsed.TotalSeconds;
    }

    // Prompt tokens/s of one prefill step (the whole prompt in one step; one token sampled).
    private static double PromptRate(LlmEngine engine, int promptLength, Random rng)
    {
        engine.AddRequest($"prefill-{Guid.NewGuid():N}", RandomPrompt(engine, promptLength, rng), SamplingParams.Greedy(1) with { IgnoreEos = true });
        var sw = Stopwatch.StartNew();
        while (engine.HasUnfinishedRequests) engine.Step();
        return promptLength / sw.Elapsed.TotalSeconds;
    }

    // Multiply-adds of a prefill: every linear layer for every token, attention scores and values (causal half), the head once.
    private static double PrefillFlops(CausalLm model, int p)
    {
        double linear = 0;
        foreach (var l in model.Layers)
        {
            var a = l.Attention;
            linear += (double)a.QProj.InFeatures * (a.QProj.OutFeatures + a.KProj.OutFeatures + a.VProj.OutFeatures) + (double)a.OProj.InFeatures * a.OProj.OutFeatures;
            linear += (double)l.Mlp.Gate.InFeatures * (l.Mlp.Gate.OutFeatures + l.Mlp.Up.OutFeatures) + (double)l.Mlp.Down.InFeatures * l.Mlp.Down.OutFeatures;
        }
        var c = model.Config;
        double attention = 2.0 * c.NumLayers * c.NumHeads * c.HeadDim * (p * (p + 1) / 2.0);
        double head = (double)c.HiddenSize * c.VocabSize;
        return 2.0 * (linear * p + attention + head);
    }

    private static int[] RandomPrompt(LlmEngine engine, int length, Random rng)
    {
        var ids = new int[length];
        for (int i = 0; i < length; i++) ids[i] = rng.Next(3, engine.ModelConfig.VocabSize);
        return ids;
    }

    private static double Median(int repeats, Func<double> measure)
    {
        var values = new double[repeats];
        for (int i = 0; i < repeats; i++) values[i] = measure();
        Array.Sort(values);
        return values[repeats / 2];
    }
}
