// The cost structured output adds per generated token on a real vocabulary: the token mask (cold: a state seen for the
// first time walks the vocabulary trie; warm: the cached mask) and the advance past the chosen token. Sequences pick
// uniformly among the allowed tokens (EOS too once the text is complete), a stress test that visits many new states.
using System.Diagnostics;
using Estuary.Engine;
using Estuary.Engine.Structured;
using Estuary.Tokenization;

namespace Estuary.Cli.Bench;

internal sealed record StructuredBenchmarkResult(
    int VocabSize, int TrieNodes, double TrieBuildMs, double CompileMs, int Sequences, int Completed, int Tokens,
    int ColdMasks, double ColdMaskUsMean, double ColdMaskUsMax, int WarmMasks, double WarmMaskUsMean, double AdvanceUsMean);

internal static class StructuredBenchmark
{
    public static StructuredBenchmarkResult Run(TextTokenizer tokenizer, StructuredOutput spec, int sequences, int maxTokens, int seed)
    {
        var clock = Stopwatch.StartNew();
        var vocabulary = TokenVocabulary.FromTokenizer(tokenizer, tokenizer.VocabSize);
        double trieMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var automaton = new StructuredOutputCompiler(() => vocabulary).Compile(spec);
        double compileMs = clock.Elapsed.TotalMilliseconds;

        var rng = new Random(seed);
        var allowed = new List<int>(tokenizer.VocabSize);
        int completed = 0, tokens = 0, cold = 0, warm = 0;
        double coldUs = 0, coldMax = 0, warmUs = 0, advanceUs = 0;
        for (int s = 0; s < sequences; s++)
        {
            var state = automaton.Initial;
            for (int t = 0; t < maxTokens; t++)
            {
                bool cached = state.Mask is not null;
                long start = Stopwatch.GetTimestamp();
                var mask = automaton.AllowedTokens(state);
                double us = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                if (cached) { warm++; warmUs += us; }
                else { cold++; coldUs += us; coldMax = Math.Max(coldMax, us); }
                allowed.Clear();
                for (int w = 0; w < mask.Length; w++)
                    for (ulong bits = mask[w]; bits != 0; bits &= bits - 1)
                        allowed.Add(w * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits));
                int pick = rng.Next(allowed.Count + (state.IsAccepting ? 1 : 0));
                if (pick == allowed.Count)
                {
                    completed++;
                    break;
                }
                start = Stopwatch.GetTimestamp();
                state = automaton.Advance(state, allowed[pick]);
                advanceUs += Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                tokens++;
                if (!state.CanContinue)
                {
                    completed++;
                    break;
                }
            }
        }
        return new StructuredBenchmarkResult(tokenizer.VocabSize, vocabulary.NodeCount, trieMs, compileMs, sequences, completed, tokens,
            cold, cold == 0 ? 0 : coldUs / cold, coldMax, warm, warm == 0 ? 0 : warmUs / warm, tokens == 0 ? 0 : advanceUs / tokens);
    }
}
