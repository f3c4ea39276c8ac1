// Measures the engine's own step times — one prompt's prefill, a decode step with 1 and with C sequences — for a roofline
// prediction of what continuous batching can gain over one-at-a-time serving on this machine.
using System.Diagnostics;
using Estuary.Engine;

namespace Estuary.Cli.Bench;

/// <summary>Step times in seconds.</summary>
internal sealed record StepTimes(double Prefill, double Decode1, double DecodeC, int Concurrency)
{
    /// <summary>
    /// Output-throughput ratio continuous / naive at concurrency C for O output tokens per request: naive serves one request in
    /// P + O·d₁; continuous serves C of them in C·P (prefill is compute-bound on a CPU, so batching cannot hide it) + O·d_C.
    /// </summary>
    public double PredictedRatio(int outputLength) =>
        Concurrency * (Prefill + outputLength * Decode1) / (Concurrency * Prefill + outputLength * DecodeC);

    public static StepTimes Measure(LlmEngine engine, int inputLength, int concurrency)
    {
        var rng = new Random(11);
        int[] Prompt(int n)
        {
            var ids = new int[n];
            for (int i = 0; i < n; i++) ids[i] = rng.Next(3, engine.ModelConfig.VocabSize);
            return ids;
        }
        // Prefill: one prompt, one step (the budget is raised to hold it), median of 3.
        var prefills = new List<double>();
        for (int rep = 0; rep < 3; rep++)
        {
            engine.AddRequest($"roofline-p{rep}", Prompt(inputLength), SamplingParams.Greedy(1) with { IgnoreEos = true });
            var sw = Stopwatch.StartNew();
            while (engine.HasUnfinishedRequests) engine.Step();
            prefills.Add(sw.Elapsed.TotalSeconds);
        }
        prefills.Sort();
        return new StepTimes(prefills[1], DecodeStep(engine, 1, Prompt), DecodeStep(engine, concurrency, Prompt), concurrency);
    }

    // Seconds per decode step with `seqs` short sequences, after their prefill.
    private static double DecodeStep(LlmEngine engine, int seqs, Func<int, int[]> prompt)
    {
        const int steps = 16;
        for (int s = 0; s < seqs; s++)
            engine.AddRequest($"roofline-d{seqs}-{s}", prompt(8), SamplingParams.Greedy(steps + 1) with { IgnoreEos = true });
        while (engine.Stats.NumWaiting > 0) engine.Step(); // admit and prefill everyone
        engine.Step();
        var sw = Stopwatch.StartNew();
        int n = 0;
        while (engine.HasUnfinishedRequests && n < steps - 2)
        {
            engine.Step();
            n++;
        }
        double perStep = sw.Elapsed.TotalSeconds / Math.Max(1, n);
        while (engine.HasUnfinishedRequests) engine.Step();
        return perStep;
    }
}
