// Measures the engine's own step times — one prompt's prefill, a decode step with 1 and with C sequences at the workload's mean
// decode context — for a roofline prediction of what continuous batching can gain over one-at-a-time serving on this machine.
using System.Diagnostics;
using Estuary.Engine;

namespace Estuary.Cli.Bench;

/// <summary>Step times in seconds; the decode steps were timed with <paramref name="DecodeContext"/> tokens of context per sequence.</summary>
internal sealed record StepTimes(double Prefill, double Decode1, double DecodeC, int Concurrency, int DecodeContext)
{
    /// <summary>
    /// Output-throughput ratio continuous / naive at concurrency C for O output tokens per request: naive serves one request in
    /// P + O·d₁; continuous serves C of them in C·P (prefill is compute-bound on a CPU, so batching cannot hide it) + O·d_C.
    /// </summary>
    public double PredictedRatio(int outputLength) =>
        Concurrency * (Prefill + outputLength * Decode1) / (Concurrency * Prefill + outputLength * DecodeC);

    /// <summary>
    /// The context a decode step of the workload sees on average: the prompt plus half the output (attention reads the whole
    /// KV cache of every sequence each step, so a step at 16 tokens of context would flatter long outputs), within the model's
    /// context limit.
    /// </summary>
    public static int MeanDecodeContext(int inputLength, int outputLength, int maxModelLen, int steps) =>
        Math.Max(1, Math.Min(inputLength + outputLength / 2, maxModelLen - steps - 2));

    public static StepTimes Measure(LlmEngine engine, int inputLength, int outputLength, int concurrency)
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
        int context = MeanDecodeContext(inputLength, outputLength, engine.MaxModelLen, DecodeSteps);
        return new StepTimes(prefills[1], DecodeStep(engine, 1, context, Prompt), DecodeStep(engine, concurrency, context, Prompt), concurrency, context);
    }

    private const int DecodeSteps = 16;

    // Seconds per decode step with `seqs` sequences of `context` prompt tokens, all decoding: the sequences may generate up to the
    // context limit, so none finishes while the others are still in prefill (long prompts take several chunked steps); they are
    // aborted once the steps are timed.
    private static double DecodeStep(LlmEngine engine, int seqs, int context, Func<int, int[]> prompt)
    {
        var added = new List<Sequence>();
        int maxTokens = Math.Max(DecodeSteps + 1, engine.MaxModelLen - context);
        for (int s = 0; s < seqs; s++)
            added.Add(engine.AddRequest($"roofline-d{seqs}-{s}", prompt(context), SamplingParams.Greedy(maxTokens) with { IgnoreEos = true }));
        while (added.Any(q => q.NumOutputTokens == 0)) engine.Step(); // admit and prefill everyone
        engine.Step();
        var sw = Stopwatch.StartNew();
        int n = 0;
        while (engine.Stats.NumRunning == seqs && n < DecodeSteps - 2)
        {
            engine.Step();
            n++;
        }
        double perStep = n > 0 ? sw.Elapsed.TotalSeconds / n : double.NaN; // NaN: a sequence was preempted before any step was timed
        foreach (var q in added) engine.Abort(q.RequestId);
        while (engine.HasUnfinishedRequests) engine.Step();
        return perStep;
    }
}
