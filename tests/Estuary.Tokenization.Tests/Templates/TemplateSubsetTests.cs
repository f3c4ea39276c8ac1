// The edges of the supported Jinja subset that the Jinja2 references cannot show: what is refused at load (naming the
// construct and its line), strftime_now against the system clock and with refused codes, tojson of what json.dumps refuses,
// and the filter and test lists the parser checks agreeing with what the evaluator runs.
using Estuary.Tokenization.Templates;

namespace Estuary.Tokenization.Tests.Templates;

public class TemplateSubsetTests
{
    [Fact]
    public void UnsupportedStatementsFailAtLoadNamingThemAndTheirLine() =>
        Assert.Equal("line 1: the statement 'with' is not supported in chat templates",
            Assert.Throws<TemplateException>(() => ChatTemplate.Parse("{% with a = 1 %}x{% endwith %}")).Message);

    [Theory]
    [InlineData("{{ 'x' | pprint }}", "line 1: the filter 'pprint' is not supported in chat templates")]
    [InlineData("a\n{% if x is sorted %}{% endif %}", "line 2: no test named 'sorted'")]
    [InlineData("{{ messages | map('urlize') | list }}", "line 1: the filter 'urlize' is not supported in chat templates")]
    [InlineData("{{ [1, 2] | select('prime') | list }}", "line 1: no test named 'prime'")]
    [InlineData("{{ messages | selectattr('role', 'matching', 'u') | list }}", "line 1: no test named 'matching'")]
    [InlineData("\n\n{{- strftime_now('%d %b %Y %Z') }}", "strftime_now: the format code '%Z' is not supported (supported: " + TemplateStrftime.Codes + ")")]
    [InlineData("{% set d = strftime_now('%Y %') %}", "strftime_now: the format '%Y %' ends in a lone '%'")]
    public void UnknownFiltersTestsAndFormatCodesFailWhenEvaluatedNamingThem(string source, string message)
    {
        var template = ChatTemplate.Parse(source); // loads: the name may sit in a branch no request takes
        var e = Assert.Throws<TemplateException>(() => template.Render([new ChatMessage("user", "hi")], "", ""));
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("{{ x | nosuch }}", "line 1: no filter named 'nosuch'")]
    [InlineData("{% for m in messages %}\n{{ m is nosuch }}{% endfor %}", "line 2: no test named 'nosuch'")]
    [InlineData("{% set x = 'a' | string.upper %}", "line 1: no filter named 'string.upper'")]
    public void NamesJinjaDoesNotKnowFailAtLoadOutsideConditionals(string source, string message) =>
        Assert.Equal(message, Assert.Throws<TemplateException>(() => ChatTemplate.Parse(source)).Message);

    [Theory]
    [InlineData("{{ 'a\\x4' }}", "line 1: truncated \\xXX escape in a string literal")]
    [InlineData("\n{{ '\\U00110000' }}", "line 2: illegal Unicode character in a string literal (\\U00110000)")]
    [InlineData("{{ '\\N{BULLET}' }}", "line 1: the string escape \\N{…} (a character by its Unicode name) is not supported in chat templates")]
    [InlineData("{% macro m() %}{% endfor %}", "line 1: 'macro' is never closed with 'endmacro'")]
    [InlineData("{% macro m(a=1, b) %}{% endmacro %}", "line 1: non-default argument follows default argument in macro 'm'")]
    public void MalformedLiteralsAndMacrosFailAtLoad(string source, string message) =>
        Assert.Equal(message, Assert.Throws<TemplateException>(() => ChatTemplate.Parse(source)).Message);

    [Theory]
    [InlineData("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "macro 'm' nests deeper than 200 calls")]
    [InlineData("{{ range(100001) | length }}", "range() is too long (over 100,000 items, the sandbox's limit)")]
    [InlineData("{{ 2 ** 70 }}", "line 1: the integer result of ** is too large for a chat template (over 64 bits)")]
    [InlineData("{{ [1] | tojson(indent=5000) }}", "line 1: tojson's indent 5000 is too large for a chat template (at most 1024)")]
    public void RunawayTemplatesFailNamingTheLimit(string source, string message) =>
        Assert.Contains(message, Assert.Throws<TemplateException>(() => ChatTemplate.Parse(source).Render(new Dictionary<string, object?>())).Message);

    [Fact]
    public void AnUnknownFilterInABranchNotTakenDoesNotStopTheTemplate() =>
        Assert.Equal("hi1", ChatTemplate.Parse("{% if tools %}{{ tools | nosuch }}{% else %}{{ messages[0].content }}{{ 1 if true else 2 | nosuch }}{% endif %}")
            .Render([new ChatMessage("user", "hi")], "", ""));

    [Fact]
    public void StrftimeNowReadsTheLocalClockAndRefusesUnknownCodesAtRender()
    {
        var before = DateTime.Now;
        var rendered = ChatTemplate.Parse("{{ strftime_now('%Y-%m-%d') }}").Render([new ChatMessage("user", "hi")], "", "");
        var after = DateTime.Now;
        Assert.Contains(rendered, new[] { before.ToString("yyyy-MM-dd"), after.ToString("yyyy-MM-dd") });

        var clock = new ChatTemplateReferenceTests.FixedClock(new DateTime(2024, 2, 29, 12, 0, 1));
        var template = ChatTemplate.Parse("{{ strftime_now(f) }}");
        Assert.Equal("Thu 29 Feb 2024 12 PM 060", template.Render(new() { ["f"] = "%a %d %b %Y %I %p %j" }, clock));
        var e = Assert.Throws<TemplateException>(() => template.Render(new() { ["f"] = "%-d" }, clock));
        Assert.Equal("strftime_now: the format code '%-' is not supported (supported: " + TemplateStrftime.Codes + ")", e.Message);
        // A caller's own strftime_now (a template keyword argument of that name) wins, as Jinja's render variables do.
        Assert.Equal("mine", ChatTemplate.Parse("{{ strftime_now }}").Render(new() { ["strftime_now"] = "mine" }));
    }

    [Theory]
    [InlineData("{{ missing | tojson }}", "line 1: tojson cannot write an undefined value as JSON")]
    [InlineData("{{ namespace(a=1) | tojson }}", "line 1: tojson cannot write a namespace as JSON")]
    [InlineData("{{ [raise_exception] | tojson }}", "line 1: tojson cannot write a function as JSON")]
    [InlineData("{{ 1 | tojson(width=3) }}", "line 1: tojson has no argument 'width'")]
    [InlineData("{{ 1 | tojson(separators=',') }}", "line 1: tojson's separators must be a pair of strings (item, key)")]
    public void TojsonRefusesWhatJsonDumpsRefuses(string source, string message) =>
        Assert.Equal(message, Assert.Throws<TemplateException>(() => ChatTemplate.Parse(source).Render(new Dictionary<string, object?>())).Message);

    [Fact]
    public void EveryListedFilterAndTestRuns()
    {
        foreach (var name in TemplateFilters.Names)
        {
            try
            {
                TemplateFilters.Apply(name, new List<object?> { "a" }, [], [], 1);
            }
            catch (TemplateException e)
            {
                Assert.DoesNotContain("not supported", e.Message, StringComparison.Ordinal);
            }
        }
        foreach (var name in TemplateTests.Names)
        {
            try
            {
                TemplateTests.Test(name, 2L, [2L], 1);
            }
            catch (TemplateException e)
            {
                Assert.DoesNotContain("not supported", e.Message, StringComparison.Ordinal);
            }
        }
    }
}
