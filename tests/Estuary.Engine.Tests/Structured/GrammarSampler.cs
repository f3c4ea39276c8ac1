using System.Text;
using Estuary.Engine.Structured;

namespace Estuary.Engine.Tests.Structured;

/// <summary>Draws random complete sentences of a grammar by walking its automaton byte by byte (a soundness oracle for tests).</summary>
internal static class GrammarSampler
{
    /// <summary>
    /// A random sentence, or null when none was finished within <paramref name="maxBytes"/> bytes. Bytes are picked uniformly
    /// among those the grammar allows next; once the text is complete it stops with probability <paramref name="stopChance"/>
    /// per byte (always when nothing may follow), rising with length so recursive grammars end. The sentence begins with
    /// <paramref name="prefix"/>, which must be a prefix of a sentence.
    /// </summary>
    public static string? Sample(GrammarAutomaton automaton, Random random, double stopChance = 0.2, int maxBytes = 4000, string prefix = "")
    {
        var bytes = new List<byte>(Encoding.UTF8.GetBytes(prefix));
        var state = automaton.Step(automaton.Initial, [.. bytes]);
        if (state.IsDead) throw new ArgumentException($"'{prefix}' begins no sentence", nameof(prefix));
        var allowed = new List<byte>(256);
        while (bytes.Count < maxBytes)
        {
            if (state.IsAccepting && (!state.CanContinue || random.NextDouble() < stopChance + bytes.Count / (double)maxBytes))
                return Encoding.UTF8.GetString([.. bytes]);
            allowed.Clear();
            for (int b = 0; b < 256; b++)
                if (!automaton.Step(state, (byte)b).IsDead) allowed.Add((byte)b);
            if (allowed.Count == 0) throw new InvalidOperationException($"dead end after '{Encoding.UTF8.GetString([.. bytes])}' in a state that is not accepting");
            var next = allowed[random.Next(allowed.Count)];
            bytes.Add(next);
            state = automaton.Step(state, next);
        }
        return null;
    }
}
