// The engine-core speed report: single-sequence decode, 8-sequence batched decode and prompt processing on one model,
// next to the machine's copy-bandwidth bound and FMA peak (measured in the same run).
using System.Diagnostics;
using Estuary.Engine;
using Estuary.Models;

namespace Estuary.Cli.Bench;

/// <summary>
/// Results of one CPU benchmark run: medians over rounds of every measurement, and medians over rounds of each ratio taken within
/// its round (the machine's speed drifts by tens of percent between minutes, so a ratio of two medians measured apart is noisier).
/// </summary>
internal sealed record CpuBenchmarkResult(double CopyBandwidth, double FmaPeak, double FmaPeak256, long WeightBytesPerToken, double DecodeTokensPerSecond,
    double BatchDecodeTokensPerSecond, int BatchSize, double PromptTokensPerSecond, int PromptLength, double PrefillFlops,
    double DecodeFractionOfBound, double BatchSpeedup, double PrefillFractionOfPeak, int Rounds)
{
    public double DecodeBoundTokensPerSecond => CopyBandwidth / WeightBytesPerToken;
    public double PrefillFlopsPerSecond => PrefillFlops * PromptTokensPerSecond / PromptLength;
}

/// <summary>Runs the measurements.</summary>
internal static class CpuBenchmark
{
    /// <summary>
    /// <paramref name="repeats"/> rounds, each: the copy-bandwidth probe, single-sequence decode, batched decode, the FMA-peak probe,
    /// prompt processing — so each measurement sits next to the yardstick (or the rate) it is divided by.
    /// </summary>
    public static CpuBenchmarkResult Run(LlmEngine engine, int threads, int decodeTokens, int batchSize, int promptLength, int repeats)
    {
        var model = (CausalLm)engine.Model;
        long bytesPerToken = model.WeightBytes - (model.Head.IsTiedToEmbedding ? 0 : model.Embedding.Table.ByteLength);
        double flops = PrefillFlops(model, promptLength);
        var rng = new Random(7);
        double peak256 = MachineProbe.FmaPeak256(threads);
        var copy = new double[repeats];
        var peak = new double[repeats];
        var decode = new double[repeats];
        var batch = new double[repeats];
        var prompt = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            copy[r] = MachineProbe.CopyBandwidth(threads);
            decode[r] = DecodeRate(engine, 1, decodeTokens, rng);
            batch[r] = DecodeRate(engine, batchSize, decodeTokens, rng);
            peak[r] = MachineProbe.FmaPeak(threads);
            prompt[r] = PromptRate(engine, promptLength, rng);
        }
        var decodeFraction = new double[repeats];
        var speedup = new double[repeats];
        var prefillFraction = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            decodeFraction[r] = decode[r] * bytesPerToken / copy[r];
            speedup[r] = batch[r] / decode[r];
            prefillFraction[r] = flops * prompt[r] / promptLength / peak[r];
        }
        return new CpuBenchmarkResult(Median(copy), Median(peak), peak256, bytesPerToken, Median(decode), Median(batch), batchSize,
            Median(prompt), promptLength, flops, Median(decodeFraction), Median(speedup), Median(prefillFraction), repeats);
    }

    /// <summary>The middle value (the mean of the two middle ones for an even count).</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
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
}
