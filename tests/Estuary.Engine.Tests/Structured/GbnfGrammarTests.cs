// GBNF grammars: regular ones against .NET's Regex (the same language written as a pattern by hand), context-free ones
// against hand-checked properties of sampled sentences, and every malformed or unusable grammar refused with its reason.
using System.Text.RegularExpressions;
using Estuary.Engine.Structured;

namespace Estuary.Engine.Tests.Structured;

public class GbnfGrammarTests
{
    [Theory]
    [InlineData("root ::= [a-c]+ (\",\" [a-c]+)*", "[a-c]+(,[a-c]+)*", "abc,")]
    [InlineData("root ::= \"yes\" | \"no\" | \"maybe\" [!?]{0,2}", "yes|no|maybe[!?]{0,2}", "yesnomaybe!?")]
    [InlineData("# a greeting\nroot ::= greeting \" \" name  # then a name\ngreeting ::= \"hi\" | \"hello\"\n\nname ::=\n  [A-Z]\n  [a-z]{1,5}\n", "(hi|hello) [A-Z][a-z]{1,5}", "hielo AZaz")]
    [InlineData("root ::= \"\\x41\\u00e9\" [\\n\\t]? [^a-z ]", "Aé[\\n\\t]?[^a-z ]", "Aé\n\ta z-!")]
    [InlineData("root ::= \"<\" . \".\" \">\"", "<.\\.>", "<.>a\n")]
    [InlineData("root ::= x{2} y{,2} z{1,}\nx ::= \"a\"\ny ::= \"b\"?\nz ::= [c-d]", "a{2}b{0,2}[c-d]+", "abcd")]
    [InlineData("root ::= (\"[\" | \"]\" | [\\[\\]\\-^] )+", "[\\[\\]\\-^]+", "[]-^a")]
    public void RegularGrammarsMatchTheirRegex(string gbnf, string pattern, string alphabet)
    {
        var automaton = new GrammarAutomaton(GbnfGrammar.Build(gbnf));
        var regex = new Regex("^(?:" + pattern + ")$", RegexOptions.Singleline);
        var random = new Random(gbnf.Length);
        for (int i = 0; i < 1500; i++)
        {
            var text = new string([.. Enumerable.Range(0, random.Next(0, 10)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            Assert.True(regex.IsMatch(text) == automaton.Accepts(text), $"'{text}': regex {regex.IsMatch(text)}");
        }
        for (int i = 0; i < 100; i++)
        {
            // .NET's '.' and negated classes match one UTF-16 unit, so samples with characters beyond U+FFFF are left out.
            var sample = GrammarSampler.Sample(automaton, random);
            if (sample is not null && !sample.Any(char.IsSurrogate)) Assert.Matches(regex, sample);
        }
    }

    [Fact]
    public void ContextFreeGrammarsNestAndRecurseOnTheRight()
    {
        var expression = new GrammarAutomaton(GbnfGrammar.Build("""
            root   ::= term (("+" | "-") term)*
            term   ::= factor (("*" | "/") factor)*
            factor ::= [0-9]+ | "(" root ")"
            """));
        foreach (var good in new[] { "1", "1+2*(3-4)", "((7))", "12/(3+(4*5))-6" }) Assert.True(expression.Accepts(good), good);
        foreach (var bad in new[] { "", "1+", "(1", "1**2", "()", "1)" }) Assert.False(expression.Accepts(bad), bad);
        var random = new Random(3);
        for (int i = 0; i < 100; i++)
        {
            if (GrammarSampler.Sample(expression, random) is not { } text) continue;
            int depth = 0;
            foreach (char c in text)
            {
                depth += c == '(' ? 1 : c == ')' ? -1 : 0;
                Assert.True(depth >= 0, text);
            }
            Assert.Equal(0, depth);
            Assert.Matches("^[0-9+\\-*/()]+$", text);
        }
    }

    [Theory]
    [InlineData("root ::= item", "refers to 'item'")]
    [InlineData("root ::= \"a\"\nroot ::= \"b\"", "defined twice")]
    [InlineData("start ::= \"a\"", "no 'root' rule")]
    [InlineData("root ::= root \"a\" | \"b\"", "left-recursive (root -> root)")]
    [InlineData("root ::= x root \"a\" | \"b\"\nx ::= \"c\"?", "left-recursive")]
    [InlineData("root ::= a\na ::= b \"x\"\nb ::= a | \"y\"", "left-recursive")]
    [InlineData("root ::= \"a", "closing '\"'")]
    [InlineData("root ::= [a-", "']' closing")]
    [InlineData("root ::= (\"a\"", "')' closing")]
    [InlineData("root ::= \"a\"{3,1}", "repetition")]
    [InlineData("root ::= \"\\q\"", "known escape")]
    [InlineData("root ::= [z-a]", "does not go backwards")]
    [InlineData("root \"a\"", "'::='")]
    [InlineData("", "empty")]
    [InlineData("root ::= \"a\"{99999999}", "too large")]
    public void BadGrammarsAreRefusedWithTheReason(string gbnf, string expected)
    {
        var e = Assert.Throws<GrammarException>(() => new GrammarAutomaton(GbnfGrammar.Build(gbnf)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void RandomTextIsAGrammarOrAReasonNeverAnotherError()
    {
        var random = new Random(11);
        const string alphabet = "root::=abc \"[]()|*+?{},.-^\\\n#x";
        for (int i = 0; i < 3000; i++)
        {
            var text = "root ::= " + new string([.. Enumerable.Range(0, random.Next(0, 20)).Select(_ => alphabet[random.Next(alphabet.Length)])]);
            try
            {
                _ = new GrammarAutomaton(GbnfGrammar.Build(text));
            }
            catch (GrammarException)
            {
            }
        }
    }
}
