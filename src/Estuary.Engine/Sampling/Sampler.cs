// Turns one sequence's logits row into a token: logprobs (raw) → allowed-token mask → logit bias → penalties → bans → structured-output mask → greedy, or temperature → top-k/top-p/min-p → draw.
// Invariant: randomness comes only from the sequence's own Random, so a seed gives the same tokens whatever else is batched.
// Scratch arrays are sized to V once; nothing is allocated per token except the optional logprob list.
using Estuary.Engine.Structured;

namespace Estuary.Engine.Sampling;

/// <summary>Samples next tokens.</summary>
internal sealed class Sampler
{
    private readonly int _vocabSize;
    private readonly int[] _eosIds;
    private readonly int[] _seenStamp;    // [V] stamp == _stamp ⇒ token occurs in prompt+output
    private readonly int[] _outputCounts; // [V] occurrences in the output (reset after use)
    private readonly int[] _candidates;   // [V] candidate ids
    private readonly float[] _candidateLogits; // [V]
    private readonly List<(int Id, float Logit)> _savedStopLogits = [];
    private int _stamp;

    public Sampler(int vocabSize, IReadOnlyList<int> eosIds)
    {
        _vocabSize = vocabSize;
        _eosIds = [.. eosIds];
        _seenStamp = new int[vocabSize];
        _outputCounts = new int[vocabSize];
        _candidates = new int[vocabSize];
        _candidateLogits = new float[vocabSize];
    }

    /// <summary>Samples the next token of <paramref name="seq"/> from <paramref name="logits"/> ([V], modified in place).</summary>
    public SampleResult Sample(Sequence seq, Span<float> logits)
    {
        var p = seq.Sampling;
        TokenLogprob[]? top = null;
        float logSumExp = 0;
        if (p.Logprobs.HasValue)
        {
            logSumExp = LogSumExp(logits);
            top = TopLogprobs(logits, p.Logprobs.Value, logSumExp);
        }
        Span<float> raw = p.Logprobs.HasValue ? logits.ToArray() : default; // only when logprobs are asked for
        if (seq.AllowedTokenMask is { } allowed) ApplyAllowedTokens(allowed, logits);
        ApplyLogitBias(seq, logits);
        ApplyPenalties(seq, logits);
        ApplyBans(seq, logits);
        int token = -1;
        if (seq.Guide is { } guide && seq.GuideActive && !ApplyGuide(seq, guide, logits)) token = FirstAllowed(seq, guide);
        // (A grammar's own pick above, made when nothing else was left, stands: its automaton must stay consistent.)
        if (token < 0)
        {
            token = p.IsGreedy ? ArgMax(logits) : Draw(seq, logits);
            // Bans (min_tokens, bad words) may have taken every allowed id: the list wins, with its lowest id (as the grammar does).
            if (seq.AllowedTokenMask is { } mask && (mask[token >> 6] >> (token & 63) & 1) == 0) token = LowestAllowed(mask);
        }
        float logprob = p.Logprobs.HasValue ? raw[token] - logSumExp : float.NaN;
        return new SampleResult(token, logprob, top);
    }

    /// <summary>The log-probability of prompt token <paramref name="tokenId"/> under <paramref name="logits"/> (the row of the position
    /// before it), with the <paramref name="topK"/> most likely tokens: the raw model distribution, no sampling settings applied.</summary>
    public static SampleResult PromptLogprob(ReadOnlySpan<float> logits, int tokenId, int topK)
    {
        float logSumExp = LogSumExp(logits);
        int rank = 1;
        float own = logits[tokenId];
        foreach (var v in logits) if (v > own) rank++;
        return new SampleResult(tokenId, own - logSumExp, TopLogprobs(logits, topK, logSumExp), rank);
    }

    // vLLM's allowed_token_ids: every id whose bit is clear gets -∞, before the bias and penalties (which then cannot revive it).
    private static void ApplyAllowedTokens(ulong[] allowed, Span<float> logits)
    {
        for (int word = 0; word * 64 < logits.Length; word++)
        {
            ulong bits = allowed[word];
            if (bits == ulong.MaxValue) continue;
            int start = word * 64;
            int end = Math.Min(start + 64, logits.Length);
            for (int i = start; i < end; i++)
                if ((bits >> (i - start) & 1) == 0) logits[i] = float.NegativeInfinity;
        }
    }

    private static int LowestAllowed(ulong[] mask)
    {
        for (int word = 0; word < mask.Length; word++)
            if (mask[word] != 0) return word * 64 + System.Numerics.BitOperations.TrailingZeroCount(mask[word]);
        return 0; // unreachable: an empty list is refused
    }

    // Before the penalties, as vLLM orders its logits processors; logprobs stay those of the model (taken above).
    private static void ApplyLogitBias(Sequence seq, Span<float> logits)
    {
        var ids = seq.LogitBiasIds;
        var values = seq.LogitBiasValues;
        for (int i = 0; i < ids.Length; i++) logits[ids[i]] += values[i];
    }

    private void ApplyPenalties(Sequence seq, Span<float> logits)
    {
        var p = seq.Sampling;
        var tokens = seq.Tokens;
        if (p.RepetitionPenalty != 1.0f)
        {
            // HF RepetitionPenaltyLogitsProcessor: every distinct token of prompt + output, once.
            _stamp++;
            float penalty = p.RepetitionPenalty;
            for (int i = 0; i < tokens.Count; i++)
            {
                int id = tokens[i];
                if ((uint)id >= (uint)_vocabSize || _seenStamp[id] == _stamp) continue;
                _seenStamp[id] = _stamp;
                logits[id] = logits[id] > 0 ? logits[id] / penalty : logits[id] * penalty;
            }
        }
        if (p.PresencePenalty != 0 || p.FrequencyPenalty != 0)
        {
            // OpenAI: logit -= frequency · count + presence · [count > 0], over output tokens only.
            for (int i = seq.NumPromptTokens; i < tokens.Count; i++)
                if ((uint)tokens[i] < (uint)_vocabSize) _outputCounts[tokens[i]]++;
            for (int i = seq.NumPromptTokens; i < tokens.Count; i++)
            {
                int id = tokens[i];
                if ((uint)id >= (uint)_vocabSize || _outputCounts[id] == 0) continue;
                logits[id] -= p.FrequencyPenalty * _outputCounts[id] + p.PresencePenalty;
                _outputCounts[id] = 0;
            }
        }
    }

    private void ApplyBans(Sequence seq, Span<float> logits)
    {
        var p = seq.Sampling;
        if (seq.NumOutputTokens < p.MinTokens)
        {
            foreach (var id in seq.Stop.StopTokenIds)
                if ((uint)id < (uint)_vocabSize) logits[id] = float.NegativeInfinity;
            foreach (var id in _eosIds)
                if ((uint)id < (uint)_vocabSize) logits[id] = float.NegativeInfinity;
        }
        // A bad word's last token is banned when the output already ends with the word's other tokens.
        foreach (var word in seq.BadWordIds)
        {
            int prefix = word.Length - 1;
            if (prefix > seq.NumOutputTokens) continue;
            bool matches = true;
            for (int i = 0; i < prefix && matches; i++)
                matches = seq.Tokens[seq.NumTokens - prefix + i] == word[i];
            if (matches && (uint)word[^1] < (uint)_vocabSize) logits[word[^1]] = float.NegativeInfinity;
        }
    }

    // Structured output: tokens that would leave the grammar get -∞; stop tokens (no text of their own) keep their value
    // once the text is complete. Returns false when nothing sampleable is left (the bans took every allowed token).
    private bool ApplyGuide(Sequence seq, GrammarAutomaton guide, Span<float> logits)
    {
        var state = seq.GuideState!;
        var mask = guide.AllowedTokens(state);
        _savedStopLogits.Clear();
        if (state.IsAccepting)
            foreach (var id in seq.Stop.StopTokenIdArray)
                if ((uint)id < (uint)logits.Length) _savedStopLogits.Add((id, logits[id]));
        bool any = false;
        for (int word = 0; word * 64 < logits.Length; word++)
        {
            ulong bits = word < mask.Length ? mask[word] : 0;
            int start = word * 64;
            int end = Math.Min(start + 64, logits.Length);
            for (int i = start; i < end; i++)
            {
                if ((bits >> (i - start) & 1) == 0) logits[i] = float.NegativeInfinity;
                else any |= !float.IsNegativeInfinity(logits[i]);
            }
        }
        foreach (var (id, value) in _savedStopLogits)
        {
            logits[id] = value;
            any |= !float.IsNegativeInfinity(value);
        }
        return any;
    }

    // When bans removed every token the grammar allows, the grammar wins: its lowest allowed id (a stop token when complete).
    private static int FirstAllowed(Sequence seq, GrammarAutomaton guide)
    {
        var mask = guide.AllowedTokens(seq.GuideState!);
        for (int word = 0; word < mask.Length; word++)
            if (mask[word] != 0) return word * 64 + System.Numerics.BitOperations.TrailingZeroCount(mask[word]);
        return seq.Stop.StopTokenIdArray.Length > 0 ? seq.Stop.StopTokenIdArray.Min() : 0;
    }

    // Lowest id wins a tie, as the references' greedy rule does.
    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        float bestValue = logits[0];
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > bestValue)
            {
                bestValue = logits[i];
                best = i;
            }
        }
        return best;
    }

    private int Draw(Sequence seq, Span<float> logits)
    {
        var p = seq.Sampling;
        float invT = 1.0f / p.Temperature;
        float max = float.NegativeInfinity;
        for (int i = 0; i < logits.Length; i++)
        {
            logits[i] *= invT;
            if (logits[i] > max) max = logits[i];
        }
        if (float.IsNegativeInfinity(max)) return ArgMax(logits);
        // Tokens more than 50 nats below the best carry < V·e⁻⁵⁰ of the mass; leaving them out changes no draw measurably.
        int n = 0;
        float floor = max - 50f;
        for (int i = 0; i < logits.Length; i++)
        {
            if (logits[i] >= floor)
            {
                _candidates[n] = i;
                _candidateLogits[n] = logits[i];
                n++;
            }
        }
        var ids = _candidates.AsSpan(0, n);
        var values = _candidateLogits.AsSpan(0, n);
        // Sort by logit descending, ties by id ascending (stable, deterministic).
        values.Sort(ids, DescendingComparer.Instance);
        SortTiesById(values, ids);
        if (p.TopK > 0 && p.TopK < n) n = p.TopK;
        // Softmax over the survivors (double for a stable cumulative sum).
        double total = 0;
        Span<double> probs = n <= 4096 ? stackalloc double[n] : new double[n];
        for (int i = 0; i < n; i++)
        {
            probs[i] = Math.Exp(values[i] - max);
            total += probs[i];
        }
        if (p.TopP < 1.0f)
        {
            double cumulative = 0;
            int keep = n;
            for (int i = 0; i < n; i++)
            {
                cumulative += probs[i] / total;
                if (cumulative >= p.TopP)
                {
                    keep = i + 1;
                    break;
                }
            }
            n = keep;
        }
        if (p.MinP > 0)
        {
            double threshold = p.MinP * probs[0];
            int keep = 1;
            while (keep < n && probs[keep] >= threshold) keep++;
            n = keep;
        }
        total = 0;
        for (int i = 0; i < n; i++) total += probs[i];
        double r = seq.Rng.NextDouble() * total;
        for (int i = 0; i < n; i++)
        {
            r -= probs[i];
            if (r < 0) return ids[i];
        }
        return ids[n - 1];
    }

    private static void SortTiesById(Span<float> values, Span<int> ids)
    {
        for (int i = 1; i < values.Length; i++)
        {
            int j = i;
            while (j > 0 && values[j] == values[j - 1] && ids[j] < ids[j - 1])
            {
                (ids[j], ids[j - 1]) = (ids[j - 1], ids[j]);
                j--;
            }
        }
    }

    private static float LogSumExp(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (var v in logits) max = Math.Max(max, v);
        double sum = 0;
        foreach (var v in logits) sum += Math.Exp(v - max);
        return (float)(max + Math.Log(sum));
    }

    private static TokenLogprob[] TopLogprobs(ReadOnlySpan<float> logits, int count, float logSumExp)
    {
        var result = new TokenLogprob[Math.Min(count, logits.Length)];
        int filled = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            float lp = logits[i] - logSumExp;
            if (filled < result.Length)
            {
                result[filled++] = new TokenLogprob(i, lp);
                for (int j = filled - 1; j > 0 && result[j].Logprob > result[j - 1].Logprob; j--)
                    (result[j], result[j - 1]) = (result[j - 1], result[j]);
            }
            else if (result.Length > 0 && lp > result[^1].Logprob)
            {
                result[^1] = new TokenLogprob(i, lp);
                for (int j = result.Length - 1; j > 0 && result[j].Logprob > result[j - 1].Logprob; j--)
                    (result[j], result[j - 1]) = (result[j - 1], result[j]);
            }
        }
        return result;
    }

    private sealed class DescendingComparer : IComparer<float>
    {
        public static readonly DescendingComparer Instance = new();
        public int Compare(float x, float y) => y.CompareTo(x);
    }
}
