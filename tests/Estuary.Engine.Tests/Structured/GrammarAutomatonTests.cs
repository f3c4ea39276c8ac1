using System.Text;
using Estuary.Engine.Structured;

namespace Estuary.Engine.Tests.Structured;

public class GrammarAutomatonTests
{
    [Fact]
    public void Utf8SequencesMatchExactlyTheEncodingsOfTheirRange()
    {
        // Every code point of a few awkward ranges (crossing length and continuation-byte boundaries) against .NET's encoder.
        foreach (var (lo, hi) in new[] { (0x00, 0x7F), (0x41, 0x3A9), (0x7F0, 0x1010), (0xD700, 0xE100), (0x4E00, 0x9FA5), (0xFFF0, 0x10400), (0x10FF00, 0x10FFFF) })
        {
            var sequences = Utf8Sequences.Of(lo, hi);
            for (int cp = Math.Max(0, lo - 70); cp <= Math.Min(0x10FFFF, hi + 70); cp++)
            {
                if (cp is >= 0xD800 and <= 0xDFFF) continue;
                var bytes = Encoding.UTF8.GetBytes(char.ConvertFromUtf32(cp));
                int matches = sequences.Count(s => s.Length == bytes.Length && s.Select((r, i) => bytes[i] >= r.Lo && bytes[i] <= r.Hi).All(x => x));
                Assert.True(matches == (cp >= lo && cp <= hi ? 1 : 0), $"U+{cp:X4} in [{lo:X},{hi:X}] matched by {matches} sequences");
            }
        }
    }

    [Fact]
    public void RecognisesAContextFreeLanguageWithNestingAndRepetition()
    {
        // value → "[" (value ("," value)*)? "]" | digit+
        var b = new GrammarBuilder();
        int value = b.DeclareRule("value");
        var digits = b.OneOrMore(b.Bytes(ByteSet.Range('0', '9')));
        var v = GrammarBuilder.Ref(value);
        var items = b.Optional(b.Sequence(v, b.ZeroOrMore(b.Sequence(b.Literal(","), v))));
        b.AddAlternative(value, b.Literal("["), items, b.Literal("]"));
        b.AddAlternative(value, digits);
        var automaton = new GrammarAutomaton(b.Build(v));
        foreach (var good in new[] { "1", "123", "[]", "[1]", "[1,22,[3,[]],[]]", "[[[[[[[[[[1]]]]]]]]]]" })
            Assert.True(automaton.Accepts(good), good);
        foreach (var bad in new[] { "", "[", "[1,]", "[,1]", "1]", "[1]]", "a", "[1 ]" })
            Assert.False(automaton.Accepts(bad), bad);
        Assert.True(automaton.AcceptsPrefix("[1,[2,"));
        Assert.False(automaton.AcceptsPrefix("[1,,"));
    }

    [Fact]
    public void LongRepetitionsKeepTheStackShallowAndReuseStates()
    {
        var b = new GrammarBuilder();
        var automaton = new GrammarAutomaton(b.Build(b.Sequence(b.Literal("\""), b.ZeroOrMore(b.CodePointsExcept([('"', '"')])), b.Literal("\""))));
        var text = "\"" + new string('x', 20000) + "\u4E2D\u6587\"";
        Assert.True(automaton.Accepts(text));
        var s1 = automaton.Step(automaton.Initial, "\"ab"u8);
        var s2 = automaton.Step(automaton.Initial, "\"abcdefgh"u8);
        Assert.Same(s1, s2);
        Assert.True(s1.Stacks.All(f => f.Depth <= 4), string.Join(",", s1.Stacks.Select(f => f.Depth)));
    }

    [Fact]
    public void NullableLoopsAndBoundedRepeatsTerminate()
    {
        var b = new GrammarBuilder();
        // (a?)* b{2,4}
        var grammar = b.Build(b.Sequence(b.ZeroOrMore(b.Optional(b.Literal("a"))), b.Repeat(b.Literal("b"), 2, 4)));
        var automaton = new GrammarAutomaton(grammar);
        Assert.True(automaton.Accepts("bb"));
        Assert.True(automaton.Accepts("aaabbbb"));
        Assert.False(automaton.Accepts("ab"));
        Assert.False(automaton.Accepts("abbbbb"));
    }

    [Fact]
    public void MoreStatesThanTheCacheHoldsStillMatchExactly()
    {
        // Every count of a{0,40000} is its own state: the caches start afresh (more than once) on the way.
        var b = new GrammarBuilder();
        var automaton = new GrammarAutomaton(b.Build(b.Sequence(b.Repeat(b.Literal("a"), 0, 40000), b.Literal("!"))));
        for (int round = 0; round < 2; round++)
        {
            Assert.True(automaton.Accepts(new string('a', 40000) + "!"));
            Assert.True(automaton.Accepts(new string('a', 12345) + "!"));
            Assert.False(automaton.Accepts(new string('a', 40001) + "!"));
        }
    }

    [Fact]
    public void ThousandsOfLiteralsShareTheirPrefixes()
    {
        // 20,000 alternatives (more than the per-state stack limit if each kept its own stack), prefixes of each other too.
        var words = Enumerable.Range(0, 20000).Select(i => $"w{i}").Append("").Append("ünï").ToList();
        var b = new GrammarBuilder();
        var automaton = new GrammarAutomaton(b.Build(b.OneOfLiterals(words)));
        Assert.True(automaton.Initial.Stacks.Length <= 2);
        foreach (var w in new[] { "", "w0", "w1", "w19999", "w1999", "ünï" }) Assert.True(automaton.Accepts(w), w);
        foreach (var w in new[] { "w", "w20000", "x", "w01", "ün" }) Assert.False(automaton.Accepts(w), w);
        Assert.True(automaton.Step(automaton.Initial, "w1"u8).IsAccepting);
        Assert.True(automaton.Step(automaton.Initial, "w1"u8).CanContinue);
    }

    [Fact]
    public void LiteralSetsAcceptExactlyTheirTextsAndTheirPrefixes()
    {
        // Random sets over a tiny alphabet (so texts are prefixes of each other and share runs), with the empty text,
        // duplicates and multi-byte characters: every text, prefix and near miss is judged as plain string checks judge it.
        var random = new Random(5);
        string[] alphabet = ["a", "b", "é", "🙂"];
        string Word(int max) => string.Concat(Enumerable.Range(0, random.Next(max + 1)).Select(_ => alphabet[random.Next(alphabet.Length)]));
        for (int round = 0; round < 200; round++)
        {
            var texts = Enumerable.Range(0, random.Next(1, 12)).Select(_ => Word(random.Next(1, 9))).ToList();
            if (round % 5 == 0) texts.Add(texts[0]);
            var b = new GrammarBuilder();
            var automaton = new GrammarAutomaton(b.Build(b.OneOfLiterals(texts)));
            var probes = texts.SelectMany(t => Enumerable.Range(0, t.Length + 1).Select(n => t[..n]))
                .Concat(texts.Select(t => t + "a")).Concat(Enumerable.Range(0, 30).Select(_ => Word(9)));
            foreach (var probe in probes)
            {
                if (probe.Length > 0 && char.IsHighSurrogate(probe[^1])) continue; // half a character is no UTF-8 text
                Assert.True(texts.Contains(probe) == automaton.Accepts(probe), $"accepts '{probe}' of [{string.Join(", ", texts)}]");
                Assert.True(texts.Any(t => t.StartsWith(probe, StringComparison.Ordinal)) == automaton.AcceptsPrefix(probe),
                    $"prefix '{probe}' of [{string.Join(", ", texts)}]");
            }
        }
    }

    [Fact]
    public void A_long_literal_set_builds_as_runs_not_a_rule_per_byte()
    {
        // One text of 20,000 CJK characters (60,000 bytes) and a sibling that branches at its very end: a rule per byte was
        // 60,000 rules; runs make a handful.
        var text = string.Concat(Enumerable.Range(0, 20_000).Select(i => (char)(0x4E00 + i % 20000)));
        var b = new GrammarBuilder();
        var grammar = b.Build(b.OneOfLiterals([text, text[..^1] + "x"]));
        Assert.True(grammar.RuleAlternatives.Length < 10, $"{grammar.RuleAlternatives.Length} rules");
        var automaton = new GrammarAutomaton(grammar);
        Assert.True(automaton.Accepts(text));
        Assert.True(automaton.Accepts(text[..^1] + "x"));
        Assert.False(automaton.Accepts(text[..^1]));
    }

    [Fact]
    public void TheTokenMaskAllowsExactlyTheTokensThatKeepTheTextAPrefix()
    {
        string[] pieces = ["a", "b", "ab", "ba", "abc", "c", "\"", "\"a", "ca", "", "bb"];
        var vocabulary = new TokenVocabulary([.. pieces.Select(p => p.Length == 0 ? null : Encoding.UTF8.GetBytes(p))]);
        var b = new GrammarBuilder();
        // "a" followed by any number of "b", then "c"
        var automaton = new GrammarAutomaton(b.Build(b.Sequence(b.Literal("a"), b.ZeroOrMore(b.Literal("b")), b.Literal("c"))), vocabulary);
        foreach (var prefix in new[] { "", "a", "ab", "abb", "abc" })
        {
            var state = automaton.Step(automaton.Initial, Encoding.UTF8.GetBytes(prefix));
            var mask = automaton.AllowedTokens(state);
            for (int id = 0; id < pieces.Length; id++)
            {
                bool expected = pieces[id].Length > 0 && automaton.AcceptsPrefix(prefix + pieces[id]);
                Assert.True(expected == ((mask[id >> 6] >> (id & 63) & 1) != 0), $"after '{prefix}', token '{pieces[id]}'");
            }
            Assert.Equal(prefix == "abc", state.IsAccepting);
        }
    }
}
