// Tests of the regular-expression compiler against System.Text.RegularExpressions (as an oracle for full matches),
// plus refusals of unsupported constructs and prefix behaviour. The .NET patterns are translated so that \d \w \s keep
// their ASCII meanings and '.' and negated classes match a whole code point (a surrogate pair), as the grammar does.
using System.Text;
using System.Text.RegularExpressions;
using Estuary.Engine.Structured;

namespace Estuary.Engine.Tests.Structured;

public class RegexGrammarTests
{
    private const string AnyPair = @"[\uD800-\uDBFF][\uDC00-\uDFFF]";

    // Pattern, texts it must match, texts it must not match.
    public static TheoryData<string, string[], string[]> OraclePatterns => new()
    {
        { "abc", ["abc"], ["", "ab", "abcd", "ABC"] },
        { "a|b|c", ["a", "b", "c"], ["", "ab", "d"] },
        { "a|", ["a", ""], ["aa", "b"] },
        { "|x|yz", ["", "x", "yz"], ["y", "xyz"] },
        { "(a|)b", ["ab", "b"], ["a", "aab", ""] },
        { "(a|ab)(c|bcd)(d*)", ["ac", "abcd", "abbcd", "acdd", "abcdddd"], ["a", "ab", "abd", "abbc"] },
        { "a*b+c?", ["b", "aabbc", "bc"], ["", "a", "ac", "bcc"] },
        { "(ab)*", ["", "ab", "ababab"], ["a", "aba", "ba"] },
        { "(a(b|c)*d)+", ["ad", "abcd", "adabbd"], ["", "a", "abc", "add"] },
        { "a{3}", ["aaa"], ["aa", "aaaa"] },
        { "a{2,}", ["aa", "aaaaaaa"], ["", "a"] },
        { "a{2,4}b", ["aab", "aaaab"], ["ab", "aaaaab", "aaaa"] },
        { "a{,2}", ["", "a", "aa"], ["aaa"] },
        { "x{0}y", ["y"], ["xy", ""] },
        { "(?:ab|cd){2}", ["abab", "abcd", "cdcd"], ["ab", "ababab", "acbd"] },
        { @"\d{3}-\d{4}", ["555-1234"], ["5551234", "55-1234", "555-123a", "555-12345"] },
        { @"\d+\.\d*", ["3.14", "0.", "10.5"], [".5", "3", "3,14"] },
        { @"[\w.+-]+@[\w-]+\.[a-z]{2,3}", ["john.doe+x@mail-srv.com", "a@b.io"], ["a@b", "@b.com", "a@b.comm", "a b@c.de"] },
        { @"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", ["2024-02-29", "1999-12-31"], ["2024-13-01", "2024-00-10", "2024-1-01", "2024-01-32"] },
        { @"\(?\d{3}\)?[ -]?\d{3}-\d{4}", ["(555) 123-4567", "555-123-4567", "555123-4567"], ["(555 123 4567", "555.123.4567"] },
        { "[^a-z]+", ["ABC", "1 2", "é中😀"], ["", "aB", "z"] },
        { @"[^\n]*", ["", "any text é 😀"], ["a\nb"] },
        { "[一-龥]+", ["中文", "龥"], ["", "中a", "ㄱ"] },
        { @"\u00e9+", ["é", "ééé"], ["", "e", "é e"] },
        { @"caf\u00e9|na\u00efve|\x41\x42?", ["café", "naïve", "A", "AB"], ["cafe", "ABB"] },
        { "😀+", ["😀", "😀😀😀"], ["", "😀a", "😁"] },
        { "(😀|🎉)*x", ["x", "😀🎉😀x"], ["😀", "😀🎉"] },
        { @"\u{1F600}\u{e9}|\uD83C\uDF89", ["😀é", "🎉"], ["😀", "é"] },
        { ".", ["a", "é", "中", "😀", " "], ["", "\n", "ab"] },
        { "a.c", ["abc", "a😀c", "a.c"], ["ac", "a\nc", "abbc"] },
        { ".+", ["x", "a 😀 b"], ["", "a\nb"] },
        { "[]a]+", ["]", "a]a"], ["", "b"] },
        { "[a-]+", ["a-", "-"], ["", "b"] },
        { "[-a]b", ["-b", "ab"], ["b", "cb"] },
        { @"[\d\s]+", ["1 2\t3\n"], ["", "a", "1 a"] },
        { @"\D\W\S", ["a-b", "é!😀", " .."], ["1-b", "a_b", "a- "] },
        { @"\s*[\w.]+\s*", ["  abc.d  ", "x"], ["", "   ", "a b"] },
        { @"[^\d\s]", ["a", "é", "😀"], ["1", " ", "\t", ""] },
        { @"(?P<year>\d{2})-(?<m>\d)", ["24-5"], ["2024-5", "24-05"] },
        { "^abc$", ["abc"], ["abcabc", ""] },
        { "^(a|b)+$", ["abba"], ["", "abc"] },
        { "a+?b*?c??d{1,2}?", ["ad", "aabbcdd"], ["a", "abccd", "addd"] },
        { @"\.\\\/\-\*\+\?\(\)\[\]\{\}\|\^\$", [@".\/-*+?()[]{}|^$"], ["", "."] },
        { "((a|b)(c|))*", ["", "ac", "abcbc", "aaa"], ["c", "acc"] },
        { "(a*)*b", ["b", "aaab"], ["", "aa", "ba"] },
        { "[a-c][x-z]{1,3}|q", ["ax", "czzz", "q"], ["a", "dx", "axxxx", "qq"] },
        { "[.][$^]+", [".$", ".^$^"], ["a$", "."] },
        { "ab]c}", ["ab]c}"], ["abc"] },
        { "a{x}b{,}c{1,", ["a{x}b{,}c{1,"], ["ab", "a{x}bc{1,"] },
        { "[\\t\\x41-\\x43\\u00e0-\\u00e5]+", ["\tABCàå"], ["D", "æ", ""] },
        { "[^abc]", ["d", "😀", "\n"], ["a", "", "dd"] },
    };

    [Theory]
    [MemberData(nameof(OraclePatterns))]
    public void MatchesExactlyWhatDotNetRegexFullyMatches(string pattern, string[] positives, string[] negatives)
    {
        var automaton = new GrammarAutomaton(RegexGrammar.Build(pattern));
        var regex = DotNetRegex(pattern);
        foreach (var text in positives)
        {
            Assert.True(regex.IsMatch(text), $"test error: .NET does not match '{text}' against /{pattern}/");
            Assert.True(automaton.Accepts(text), $"/{pattern}/ should accept '{text}'");
        }
        foreach (var text in negatives)
        {
            Assert.False(regex.IsMatch(text), $"test error: .NET matches '{text}' against /{pattern}/");
            Assert.False(automaton.Accepts(text), $"/{pattern}/ should reject '{text}'");
        }

        // Random strings over the pattern's own characters and a few others: the two must agree on every one.
        var alphabet = pattern.EnumerateRunes().Where(r => r.Value != '\\').Select(r => r.ToString())
            .Concat(["a", "b", "0", "9", " ", "\n", "-", "_", "é", "中", "😀"]).Distinct().ToArray();
        var random = new Random(pattern.Length * 7919 + pattern[0]);
        var text1 = new StringBuilder();
        for (int i = 0; i < 400; i++)
        {
            text1.Clear();
            int length = random.Next(9);
            for (int k = 0; k < length; k++) text1.Append(alphabet[random.Next(alphabet.Length)]);
            var text = text1.ToString();
            Assert.True(regex.IsMatch(text) == automaton.Accepts(text), $"/{pattern}/ on '{text}': .NET {regex.IsMatch(text)}, grammar {!regex.IsMatch(text)}");
        }

        // Soundness: every sentence the grammar generates is a full match.
        for (int i = 0; i < 60; i++)
        {
            var sample = GrammarSampler.Sample(automaton, random, stopChance: 0.3, maxBytes: 200);
            if (sample is null) continue;
            Assert.True(regex.IsMatch(sample), $"/{pattern}/ generated '{sample}', which .NET does not match");
        }
    }

    [Fact]
    public void RandomPatternsAgreeWithDotNet()
    {
        var random = new Random(12345);
        for (int p = 0; p < 400; p++)
        {
            var pattern = RandomPattern(random, 3);
            var automaton = new GrammarAutomaton(RegexGrammar.Build(pattern));
            var regex = DotNetRegex(pattern);
            for (int i = 0; i < 60; i++)
            {
                var text = new string([.. Enumerable.Range(0, random.Next(7)).Select(_ => "abcd"[random.Next(4)])]);
                Assert.True(regex.IsMatch(text) == automaton.Accepts(text), $"/{pattern}/ on '{text}': .NET {regex.IsMatch(text)}");
            }
            for (int i = 0; i < 10; i++)
            {
                var sample = GrammarSampler.Sample(automaton, random, stopChance: 0.3, maxBytes: 100);
                if (sample is not null) Assert.True(regex.IsMatch(sample), $"/{pattern}/ generated '{sample}'");
            }
        }
    }

    [Fact]
    public void ShorthandClassesHaveTheirAsciiMeanings()
    {
        var digit = new GrammarAutomaton(RegexGrammar.Build(@"\d"));
        var word = new GrammarAutomaton(RegexGrammar.Build(@"\w"));
        var space = new GrammarAutomaton(RegexGrammar.Build(@"\s"));
        foreach (char c in "0123456789") Assert.True(digit.Accepts(c.ToString()));
        foreach (var s in new[] { "٣", "５", "a", "" }) Assert.False(digit.Accepts(s), s);
        foreach (var s in new[] { "a", "Z", "0", "_" }) Assert.True(word.Accepts(s), s);
        foreach (var s in new[] { "é", "中", "-", " " }) Assert.False(word.Accepts(s), s);
        foreach (var s in new[] { " ", "\t", "\n", "\r", "\f", "\v" }) Assert.True(space.Accepts(s), s);
        foreach (var s in new[] { "\u00a0", "\u2003", "\u0085", "x" }) Assert.False(space.Accepts(s), s);

        var negated = new GrammarAutomaton(RegexGrammar.Build(@"\D\W\S"));
        Assert.True(negated.Accepts("٣é\u00a0"));
        Assert.True(negated.Accepts("😀😀😀"));
        Assert.False(negated.Accepts("1é\u00a0"));

        // Inside classes, including negated classes and negated shorthands.
        var inClass = new GrammarAutomaton(RegexGrammar.Build(@"[^\D]+[\W\d]"));
        Assert.True(inClass.Accepts("12é"));
        Assert.True(inClass.Accepts("123"));
        Assert.False(inClass.Accepts("1a"));
        Assert.False(inClass.Accepts("٣-"));
    }

    [Fact]
    public void CharacterEscapesAndAstralClasses()
    {
        Assert.True(new GrammarAutomaton(RegexGrammar.Build(@"\t\n\r\f\v\0\a\x7f\u{10FFFF}")).Accepts("\t\n\r\f\v\0\a\x7f\U0010FFFF"));
        Assert.True(new GrammarAutomaton(RegexGrammar.Build(@"\U0001F600[\b]")).Accepts("😀\b"));
        var emoji = new GrammarAutomaton(RegexGrammar.Build("[😀-😂🎉]+"));
        Assert.True(emoji.Accepts("😀😁😂🎉"));
        Assert.False(emoji.Accepts("😃"));
        var escaped = new GrammarAutomaton(RegexGrammar.Build(@"[\uD83D\uDE00-\u{1F602}]"));
        Assert.True(escaped.Accepts("😁"));
        Assert.False(escaped.Accepts("😃"));
        // Classes spanning the surrogate block match the code points around it only.
        var wide = new GrammarAutomaton(RegexGrammar.Build(@"[\uD000-\uFFFF]"));
        Assert.True(wide.Accepts("\uD7FF"));
        Assert.True(wide.Accepts("\uE000"));
        Assert.False(wide.Accepts("😀"));
    }

    [Fact]
    public void CompileEmbedsThePatternInALargerGrammar()
    {
        var builder = new GrammarBuilder();
        var quote = builder.Literal("\"");
        var grammar = builder.Build(builder.Sequence(quote, RegexGrammar.Compile(builder, @"\d+(\.\d+)?"), quote));
        var automaton = new GrammarAutomaton(grammar);
        Assert.True(automaton.Accepts("\"3.25\""));
        Assert.False(automaton.Accepts("3.25"));
        Assert.False(automaton.Accepts("\"3.\""));
    }

    [Fact]
    public void LargeButBoundedRepetitionsCompile()
    {
        var automaton = new GrammarAutomaton(RegexGrammar.Build("(ab){2000}c{1000,5000}"));
        Assert.True(automaton.Accepts(string.Concat(Enumerable.Repeat("ab", 2000)) + new string('c', 4999)));
        Assert.False(automaton.Accepts(string.Concat(Enumerable.Repeat("ab", 1999)) + new string('c', 1000)));
    }

    [Fact]
    public void HugeBoundedRepetitionsAreRefusedWithTheirPosition()
    {
        // Passes GrammarBuilder.Repeat's count check but exceeds the builder's symbol budget while the rules are added.
        var error = Assert.Throws<GrammarException>(() => RegexGrammar.Build("xy{0,999999}"));
        Assert.Contains("too large", error.Message, StringComparison.Ordinal);
        Assert.Contains("position 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AcceptsPrefixesOfMatchesOnly()
    {
        var phone = new GrammarAutomaton(RegexGrammar.Build(@"\d{3}-\d{4}"));
        foreach (var good in new[] { "", "5", "555", "555-", "555-12", "555-1234" }) Assert.True(phone.AcceptsPrefix(good), good);
        foreach (var bad in new[] { "a", "5555", "555-12345", "55-" }) Assert.False(phone.AcceptsPrefix(bad), bad);
        Assert.False(phone.Step(phone.Initial, "555-1234"u8).CanContinue);
        Assert.False(phone.Step(phone.Initial, "555-12"u8).IsAccepting);

        var overlap = new GrammarAutomaton(RegexGrammar.Build("(a|ab)(c|bcd)(d*)"));
        Assert.True(overlap.AcceptsPrefix("abb"));
        Assert.True(overlap.AcceptsPrefix("abcddd"));
        Assert.False(overlap.AcceptsPrefix("abx"));
        Assert.False(overlap.AcceptsPrefix("abbd"));

        // A partial UTF-8 character is a prefix; a byte that cannot continue it is not.
        var cjk = new GrammarAutomaton(RegexGrammar.Build("[一-龥]+"));
        var zhong = Encoding.UTF8.GetBytes("中");
        Assert.False(cjk.Step(cjk.Initial, zhong.AsSpan(0, 1)).IsDead);
        Assert.False(cjk.Step(cjk.Initial, zhong.AsSpan(0, 2)).IsAccepting);
        Assert.True(cjk.Step(cjk.Initial, zhong).IsAccepting);
        Assert.True(cjk.Step(cjk.Initial, [0xE4, 0x41]).IsDead);
        Assert.True(cjk.Step(cjk.Initial, [0xEA]).IsDead); // U+A000 and up are past 龥
    }

    // Pattern, a distinctive part of the message, the position the message must name.
    public static TheoryData<string, string, int> UnsupportedPatterns => new()
    {
        { @"(a)\1", "backreference '\\1'", 3 },
        { @"(?<n>a)\k<n>", "named backreference", 7 },
        { "(?P<n>a)(?P=n)", "named backreference '(?P='", 8 },
        { "a(?=b)", "lookahead", 1 },
        { "a(?!b)", "negative lookahead", 1 },
        { "(?<=a)b", "lookbehind", 0 },
        { "(?<!a)b", "negative lookbehind", 0 },
        { @"\bfoo", "word boundary", 0 },
        { @"a\B", "word boundary", 1 },
        { @"[\B]", "'\\B' inside a character class", 1 },
        { "(?i)abc", "inline flags", 0 },
        { "x(?i:a)", "inline flags", 1 },
        { "(?-i:a)", "inline flags", 0 },
        { "a*+", "possessive quantifier", 1 },
        { "ab++", "possessive quantifier", 2 },
        { "a?+", "possessive quantifier", 1 },
        { "a{2}+", "possessive quantifier", 1 },
        { "a**", "nested quantifier", 2 },
        { "a{2}{3}", "nested quantifier", 4 },
        { "a*?+", "nested quantifier", 3 },
        { "a^b", "'^' anywhere but at the very start", 1 },
        { "(^a)", "'^' anywhere but at the very start", 1 },
        { "a$b", "'$' anywhere but at the very end", 1 },
        { "(a$)", "'$' anywhere but at the very end", 2 },
        { "^a$$", "'$' anywhere but at the very end", 2 },
        { @"\p{L}+", "Unicode property class", 0 },
        { @"x\P{Lu}", "Unicode property class", 1 },
        { @"[\p{L}]", "Unicode property class", 1 },
        { "(ab", "missing ')'", 0 },
        { "((a)|b", "missing ')'", 0 },
        { "ab)", "unbalanced ')'", 2 },
        { "[ab", "unterminated character class", 0 },
        { "x[]", "unterminated character class", 1 },
        { "[^]", "unterminated character class", 0 },
        { "*a", "nothing to repeat", 0 },
        { "a|+b", "nothing to repeat", 2 },
        { "(?:?a)", "nothing to repeat", 3 },
        { "^*", "nothing to repeat", 1 },
        { "{2}a", "nothing to repeat", 0 },
        { "a{3,2}", "maximum below its minimum", 1 },
        { "a{99999999999}", "repetition count that is too large", 2 },
        { "xa{3000000}", "too large", 2 },
        { "[z-a]", "out of order", 3 },
        { @"[\d-z]", "class escape as an end", 1 },
        { @"[a-\w]", "class escape as an end", 1 },
        { "ab\\", "lone backslash", 2 },
        { @"\q", "the escape '\\q'", 0 },
        { @"\x4", "hex digits", 0 },
        { @"\u12", "hex digits", 0 },
        { @"\u{110000}", "beyond U+10FFFF", 0 },
        { @"\U00110000", "beyond U+10FFFF", 0 },
        { @"a\uD800", "lone surrogate", 1 },
        { @"[^\s\S]", "matches no character", 0 },
        { @"[\uD800-\uDFFF]", "matches no character", 0 },
        { @"\Aa", "anchor '\\A'", 0 },
        { @"a\Z", "anchor '\\Z'", 1 },
        { @"a\z", "anchor '\\z'", 1 },
        { "(?>a)", "atomic group", 0 },
        { "(?#note)a", "comment group", 0 },
        { "(?(1)a|b)", "conditional group", 0 },
        { "(?<1a>x)", "invalid group name", 3 },
        { "(?P<>x)", "invalid group name", 4 },
        { "(?<ab", "malformed group name", 3 },
        { "(?", "unterminated group", 0 },
        { "[[:alpha:]]", "POSIX class", 1 },
        { @"\012", "octal escape", 0 },
        { @"\cA", "the escape '\\c'", 0 },
    };

    [Theory]
    [MemberData(nameof(UnsupportedPatterns))]
    public void UnsupportedConstructsAreRefusedByName(string pattern, string construct, int position)
    {
        var error = Assert.Throws<GrammarException>(() => RegexGrammar.Build(pattern));
        Assert.Contains(construct, error.Message, StringComparison.Ordinal);
        Assert.Contains($"position {position}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoneSurrogateCharactersAreRefused()
    {
        // (Not theory data: xUnit's serialisation would replace the lone surrogates.)
        foreach (var (pattern, position) in new[] { ("a\uDC00", 1), ("ab\uD800", 2), ("\uD800b", 0) })
        {
            var error = Assert.Throws<GrammarException>(() => RegexGrammar.Build(pattern));
            Assert.Contains("lone surrogate", error.Message, StringComparison.Ordinal);
            Assert.Contains($"position {position}", error.Message, StringComparison.Ordinal);
        }
        // Inside a class a lone surrogate matches nothing, so a class of only that is refused.
        Assert.Contains("matches no character", Assert.Throws<GrammarException>(() => RegexGrammar.Build("[\uD800]")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeepNestingIsRefusedAndModerateNestingWorks()
    {
        var deep = new string('(', 1000) + "a" + new string(')', 1000);
        Assert.Contains("nested deeper", Assert.Throws<GrammarException>(() => RegexGrammar.Build(deep)).Message, StringComparison.Ordinal);
        var moderate = new string('(', 150) + "a" + string.Concat(Enumerable.Repeat(")*", 150));
        var automaton = new GrammarAutomaton(RegexGrammar.Build(moderate));
        Assert.True(automaton.Accepts("aaaa"));
        Assert.True(automaton.Accepts(""));
        Assert.False(automaton.Accepts("ab"));
    }

    [Fact]
    public void GarbagePatternsCompileOrThrowGrammarExceptionOnly()
    {
        // Random text over the metacharacters: either a grammar comes out or a GrammarException, never anything else.
        var random = new Random(777);
        const string pieces = "ab()[]{}|*+?^$.\\-,:=!<>Pkdwsbux0129";
        for (int i = 0; i < 5000; i++)
        {
            var pattern = new string([.. Enumerable.Range(0, random.Next(1, 12)).Select(_ => pieces[random.Next(pieces.Length)])]);
            try
            {
                var automaton = new GrammarAutomaton(RegexGrammar.Build(pattern));
                _ = automaton.Accepts("ab");
            }
            catch (GrammarException)
            {
            }
            catch (Exception e)
            {
                Assert.Fail($"/{pattern}/ threw {e.GetType().Name}: {e.Message}");
            }
        }
    }

    // A random pattern of literals, classes, groups, alternation and quantifiers over a small alphabet.
    private static string RandomPattern(Random random, int depth)
    {
        var alternatives = new List<string>();
        int count = random.Next(4) == 0 ? 2 : 1;
        for (int a = 0; a < count; a++)
        {
            var sequence = new StringBuilder();
            int items = random.Next(depth > 0 ? 4 : 3);
            for (int i = 0; i < items; i++)
            {
                int kind = random.Next(10);
                sequence.Append(kind switch
                {
                    < 4 => "abc"[random.Next(3)].ToString(),
                    4 => "[ab]",
                    5 => "[^a]",
                    6 => random.Next(2) == 0 ? "[b-d]" : ".",
                    _ when depth > 0 => (random.Next(2) == 0 ? "(" : "(?:") + RandomPattern(random, depth - 1) + ")",
                    _ => "d",
                });
                if (random.Next(3) == 0)
                {
                    sequence.Append(random.Next(7) switch
                    {
                        0 => "*",
                        1 => "+",
                        2 => "?",
                        3 => $"{{{random.Next(3)}}}",
                        4 => $"{{{random.Next(2)},}}",
                        5 => $"{{,{random.Next(1, 3)}}}",
                        _ => $"{{{random.Next(2)},{random.Next(2, 4)}}}",
                    });
                    if (random.Next(4) == 0) sequence.Append('?');
                }
            }
            alternatives.Add(sequence.ToString());
        }
        return string.Join("|", alternatives);
    }

    // The .NET regex that fully matches what the pattern does in the grammar's meaning.
    private static Regex DotNetRegex(string pattern) =>
        new("^(?:" + ToDotNet(pattern) + @")\z", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);

    // Rewrites the constructs whose .NET meaning differs: \d \w \s (Unicode in .NET), '.' and negated classes (one UTF-16
    // unit in .NET), astral literals under a quantifier, \u{…}, {,m} and (?P<name>.
    private static string ToDotNet(string p)
    {
        var sb = new StringBuilder();
        int i = 0;
        while (i < p.Length)
        {
            char c = p[i];
            if (c == '\\')
            {
                char e = p[i + 1];
                switch (e)
                {
                    case 'd': sb.Append("[0-9]"); break;
                    case 'w': sb.Append("[A-Za-z0-9_]"); break;
                    case 's': sb.Append(@"[ \t\n\r\f\v]"); break;
                    case 'D': sb.Append(NotIn("0-9")); break;
                    case 'W': sb.Append(NotIn("A-Za-z0-9_")); break;
                    case 'S': sb.Append(NotIn(@" \t\n\r\f\v")); break;
                    case 'u' when p[i + 2] == '{':
                        int close = p.IndexOf('}', i);
                        var text = char.ConvertFromUtf32(Convert.ToInt32(p[(i + 3)..close], 16));
                        sb.Append("(?:").Append(string.Concat(text.Select(u => $"\\u{(int)u:X4}"))).Append(')');
                        i = close + 1;
                        continue;
                    default: sb.Append(c).Append(e); break;
                }
                i += 2;
            }
            else if (c == '.')
            {
                sb.Append(NotIn(@"\n"));
                i++;
            }
            else if (c == '[')
            {
                int j = i + 1;
                bool negated = p[j] == '^';
                if (negated) j++;
                int bodyStart = j;
                if (p[j] == ']') j++;
                while (p[j] != ']') j += p[j] == '\\' ? 2 : 1;
                var body = new StringBuilder();
                for (int k = bodyStart; k < j; k++)
                {
                    if (p[k] == '\\' && p[k + 1] is 'd' or 'w' or 's')
                    {
                        body.Append(p[k + 1] switch { 'd' => "0-9", 'w' => "A-Za-z0-9_", _ => @" \t\n\r\f\v" });
                        k++;
                    }
                    else if (p[k] == '\\')
                    {
                        body.Append(p, k, 2);
                        k++;
                    }
                    else body.Append(p[k]);
                }
                sb.Append(negated ? NotIn(body.ToString()) : "[" + body + "]");
                i = j + 1;
            }
            else if (c == '{' && p[i + 1] == ',' && char.IsAsciiDigit(p[i + 2]))
            {
                sb.Append("{0,");
                i += 2;
            }
            else if (p.AsSpan(i).StartsWith("(?P<"))
            {
                sb.Append("(?<");
                i += 4;
            }
            else if (char.IsHighSurrogate(c))
            {
                sb.Append("(?:").Append(p, i, 2).Append(')');
                i += 2;
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }
        return sb.ToString();
    }

    // Any code point (a surrogate pair counts as one) not in the class body.
    private static string NotIn(string body)
    {
        if (body.StartsWith(']') || body.StartsWith('-')) body = "\\" + body;
        return $@"(?:[^\uD800-\uDFFF{body}]|{AnyPair})";
    }

    [Fact]
    public void ALongAlternationOfWordsSharesPrefixes()
    {
        // 10,000 alternatives, prefixes of one another: one parse stack per next byte, where one per word would pass the limit.
        var words = Enumerable.Range(0, 10000).Select(i => $"w{i}").ToList();
        var automaton = new GrammarAutomaton(RegexGrammar.Build("(" + string.Join("|", words) + ")!"));
        Assert.True(automaton.Initial.Stacks.Length <= 2);
        foreach (var w in new[] { "w0!", "w1!", "w999!", "w9999!" }) Assert.True(automaton.Accepts(w), w);
        foreach (var w in new[] { "w!", "w10000!", "w1", "x!" }) Assert.False(automaton.Accepts(w), w);
    }
}
