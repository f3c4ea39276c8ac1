// Tests for the JSON-Schema grammar compiler: hand-written instances (compact and 2-space indented) accepted, one
// invalid instance per constraint rejected, random sentences of every grammar valid JSON that an independent validator
// accepts, integer ranges checked value by value, and every unsupported keyword refused by name.
using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Estuary.Engine.Structured;

namespace Estuary.Engine.Tests.Structured;

public class JsonSchemaGrammarTests
{
    private sealed record Case(string Schema, string[] Valid, string[] Invalid);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["person"] = new(
            """
            {"type":"object","title":"Person","properties":{
              "name":{"type":"string","minLength":1,"maxLength":20,"description":"full name"},
              "age":{"type":"integer","minimum":0,"maximum":150},
              "email":{"type":"string"},
              "address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"},"zip":{"type":"string","pattern":"^[0-9]{5}$"}},"required":["city"]},
              "tags":{"type":"array","items":{"type":"string"},"maxItems":3}},
             "required":["name","age"]}
            """,
            [
                """{"name":"Ada","age":36}""",
                """{"name":"Grace Hopper","age":85,"email":"g@navy.mil","address":{"street":"1 Main St","city":"Arlington","zip":"22201"},"tags":["navy","cobol"]}""",
                """{"name":"\u00e9\u4e2d\ud83d\ude00","age":0,"address":{"city":"Z\u00fcrich"},"tags":[]}""",
                """{"name":"x","age":150,"tags":["a","b","c"]}""",
            ],
            [
                """{"age":36}""", // missing required
                """{"name":"Ada"}""",
                """{"name":"","age":36}""", // minLength
                """{"name":"abcdefghijklmnopqrstu","age":36}""", // maxLength
                """{"name":"Ada","age":151}""", // maximum
                """{"name":"Ada","age":-1}""", // minimum
                """{"name":"Ada","age":"36"}""", // wrong type
                """{"name":"Ada","age":36.5}""",
                """{"name":"Ada","age":36,"address":{"street":"x"}}""", // nested required
                """{"name":"Ada","age":36,"address":{"city":"x","zip":"1234"}}""", // pattern
                """{"name":"Ada","age":36,"tags":["a","b","c","d"]}""", // too many items
                """{"name":"Ada","age":36,"phone":"1"}""", // extra key
                """{"name":"Ada","age":36,}""", // trailing comma
                """{"name":"Ada" "age":36}""",
                """{"name":"A\qa","age":36}""", // bad escape
                """{"name":"A\u12","age":36}""",
                """{"name":"\ud83d","age":36}""", // lone surrogate escape
                """{"age":36,"name":"Ada"}""", // properties come in declared order
                """ {"name":"Ada","age":36}""", // whitespace before / after the value
                """{"name":"Ada","age":36} """,
                """{"name":"Ada","age":36}{}""",
            ]),
        ["optionals"] = new(
            """{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"boolean"},"c":{"type":"null"},"d":{"type":"string"},"e":{"type":"number"}},"required":["c"],"additionalProperties":false}""",
            ["""{"c":null}""", """{"a":1,"b":true,"c":null,"d":"x","e":1.5e3}"""],
            ["""{}""", """{"a":1,"b":true,"d":"x","e":1}""", """{"c":null,"f":1}""", """{"c":null,,"d":"x"}""", """{,"c":null}""", """{"c":null,}""", """{"c":0}""", """{"c":null,"c":null}"""]),
        ["array bounds"] = new(
            """{"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":4}""",
            ["[1,2]", "[1,2,3]", "[-1,0,10,200]"],
            ["[]", "[1]", "[1,2,3,4,5]", "[1,2,]", "[1,,2]", "[1,\"2\"]", "[1.5,2]", "[1 2]"]),
        ["tuple"] = new(
            """{"type":"array","prefixItems":[{"type":"string"},{"type":"number"},{"type":"boolean"}],"items":false}""",
            ["""["a",1,true]"""],
            ["[]", """["a"]""", """["a",1]""", """["a",1,true,null]""", """[1,"a",true]""", """["a",1,"true"]"""]),
        ["tuple with rest"] = new(
            """{"type":"array","prefixItems":[{"const":"id"}],"items":{"type":"integer","minimum":1},"minItems":2,"maxItems":5}""",
            ["""["id",1]""", """["id",1,2,3,4]"""],
            ["""["id"]""", """["id",0]""", """["id",1,2,3,4,5]""", """["ID",1]"""]),
        ["enum unicode"] = new(
            """{"enum":["caf\u00e9","中文","naïve \"quoted\"","tab\there","\u00e9t\u00e9 ☀",1,2.50,null,true,{"k":[1,2],"é":"ü"},[]]}""",
            ["\"café\"", "\"中文\"", "\"naïve \\\"quoted\\\"\"", "\"tab\\there\"", "\"été ☀\"", "1", "2.50", "null", "true", """{"k":[1,2],"é":"ü"}""", "[]"],
            ["\"cafe\"", "\"café \"", "\"caf\\u00e9\"", "2", "2.5", "false", "\"\"", """{"k":[1,2]}""", """{"k":[1,2],"é":"ü","x":1}""", "[1]", "\"tab\there\""]),
        ["integer range"] = new(
            """{"type":"integer","minimum":-15,"maximum":123}""",
            ["-15", "0", "7", "99", "123"],
            ["-16", "124", "-0", "007", "1.0", "1e2", "", "-", "+5", "12a"]),
        ["non-negative integers"] = new(
            """{"type":"integer","minimum":0}""",
            ["0", "1", "10", "123456789012345678901234567890"],
            ["-1", "-0", "01", "1.5"]),
        ["integers up to 7"] = new(
            """{"type":"integer","exclusiveMaximum":8}""",
            ["7", "0", "-1", "-123456789012345678901234567890"],
            ["8", "9", "10", "70", "-0"]),
        ["anyOf null"] = new(
            """{"anyOf":[{"type":"string","maxLength":5},{"type":"null"}],"default":null}""",
            ["null", "\"\"", "\"abcde\"", "\"\\u00e9\\\"\\\\\\/\\n\"", "\"\\b\\f\\r\\t\""],
            ["\"abcdef\"", "\"a\\\"bcdef\"", "0", "nul", "\"\\x\"", "\"a\nb\"", "\"\\uD800\\u0041\""]),
        ["tree"] = new(
            """
            {"$defs":{"node":{"type":"object","properties":{"value":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#/$defs/node"}}},
             "required":["value"],"additionalProperties":false}},"$ref":"#/$defs/node"}
            """,
            ["""{"value":1}""", """{"value":1,"children":[]}""", """{"value":1,"children":[{"value":2,"children":[{"value":3}]},{"value":4}]}"""],
            ["""{"children":[]}""", """{"value":1,"children":[{}]}""", """{"value":1,"children":[{"value":"2"}]}""", """{"value":1,"children":{"value":2}}"""]),
        ["linked list"] = new(
            """{"type":"object","properties":{"name":{"type":"string"},"next":{"anyOf":[{"$ref":"#"},{"type":"null"}]}},"required":["name","next"],"additionalProperties":false}""",
            ["""{"name":"a","next":null}""", """{"name":"a","next":{"name":"b","next":{"name":"c","next":null}}}"""],
            ["""{"name":"a"}""", """{"name":"a","next":{"name":"b"}}""", """{"name":"a","next":1}"""]),
        ["string lengths"] = new(
            """{"type":"string","minLength":2,"maxLength":4}""",
            ["\"ab\"", "\"abcd\"", "\"\\n\\u0041\"", "\"😀😀\"", "\"\\ud83d\\ude00x\""],
            ["\"a\"", "\"abcde\"", "\"😀\"", "\"\\ud83d\\ude00\"", "ab", "\"ab"]),
        ["formats"] = new(
            """{"type":"object","properties":{"d":{"type":"string","format":"date"},"t":{"type":"string","format":"time"},"dt":{"type":"string","format":"date-time"},"u":{"type":"string","format":"uuid"}},"required":["d","t","dt","u"]}""",
            [
                """{"d":"2024-02-29","t":"23:59:59Z","dt":"2000-02-29T00:00:00.123+05:30","u":"123e4567-e89b-12d3-a456-426614174000"}""",
                """{"d":"1999-12-31","t":"00:00:00.5-08:00","dt":"2023-06-30T12:30:45Z","u":"ABCDEF01-2345-6789-ABCD-EF0123456789"}""",
            ],
            [
                """{"d":"2023-02-29","t":"23:59:59Z","dt":"2000-02-29T00:00:00Z","u":"123e4567-e89b-12d3-a456-426614174000"}""",
                """{"d":"1900-02-29","t":"23:59:59Z","dt":"2000-02-29T00:00:00Z","u":"123e4567-e89b-12d3-a456-426614174000"}""",
                """{"d":"2024-04-31","t":"23:59:59Z","dt":"2000-02-29T00:00:00Z","u":"123e4567-e89b-12d3-a456-426614174000"}""",
                """{"d":"2024-13-01","t":"23:59:59Z","dt":"2000-02-29T00:00:00Z","u":"123e4567-e89b-12d3-a456-426614174000"}""",
                """{"d":"2024-01-01","t":"24:00:00Z","dt":"2000-02-29T00:00:00Z","u":"123e4567-e89b-12d3-a456-426614174000"}""",
                """{"d":"2024-01-01","t":"23:59:59","dt":"2000-02-29T00:00:00Z","u":"123e4567-e89b-12d3-a456-426614174000"}""",
                """{"d":"2024-01-01","t":"23:59:59Z","dt":"2000-02-29 00:00:00Z","u":"123e4567-e89b-12d3-a456-426614174000"}""",
                """{"d":"2024-01-01","t":"23:59:59Z","dt":"2000-02-29T00:00:00Z","u":"123e4567e89b12d3a456426614174000"}""",
                """{"d":"2024-01-01","t":"23:59:59Z","dt":"2000-02-29T00:00:00Z","u":"123e4567-e89b-12d3-a456-42661417400g"}""",
            ]),
        ["additional properties"] = new(
            """{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"],"additionalProperties":{"type":"boolean"}}""",
            ["""{"id":1}""", """{"id":1,"x":true,"y":false}"""],
            ["""{"x":true}""", """{"id":1,"x":1}""", """{"id":1,"x":true,}""", """{"x":true,"id":1}"""]),
        ["free object"] = new(
            """{"type":"object"}""",
            ["{}", """{"a":[1,{"b":null}],"c":"d","e":-1.5E+3}"""],
            ["[]", "{", """{"a"}""", """{"a":1,}""", """{a:1}""", "{'a':1}"]),
        ["signed numbers"] = new(
            """{"type":"object","properties":{"n":{"type":["number","null"]},"p":{"type":"number","exclusiveMinimum":0},"nn":{"type":"number","minimum":0},"neg":{"type":"number","exclusiveMaximum":0}},"required":["n","p","nn","neg"]}""",
            ["""{"n":null,"p":0.001,"nn":0,"neg":-1e-9}""", """{"n":-1.5E+10,"p":12,"nn":0.0,"neg":-0.5}"""],
            ["""{"n":null,"p":0,"nn":0,"neg":-1}""", """{"n":null,"p":0.000,"nn":0,"neg":-1}""", """{"n":null,"p":1,"nn":-1,"neg":-1}""",
             """{"n":null,"p":1,"nn":0,"neg":0}""", """{"n":null,"p":1,"nn":0,"neg":-0.0}""", """{"n":"1","p":1,"nn":0,"neg":-1}""", """{"n":01,"p":1,"nn":0,"neg":-1}""",
             """{"n":1.,"p":1,"nn":0,"neg":-1}""", """{"n":.5,"p":1,"nn":0,"neg":-1}""", """{"n":1e,"p":1,"nn":0,"neg":-1}"""]),
        ["pattern with escapes"] = new(
            """{"type":"string","pattern":"^[a-c\"\\\\\\n]{1,6}$"}""",
            ["\"abc\"", "\"a\\\"b\\\\c\\n\"", "\"\\n\""],
            ["\"\"", "\"abcabca\"", "\"d\"", "\"a\"b\"", "\"a\\u0022\"", "\"a\nb\""]),
        ["inferred types"] = new(
            """{"properties":{"a":{"maxLength":3},"b":{"minimum":0},"c":{"items":{"type":"boolean"},"maxItems":2}},"required":["a"]}""",
            ["""{"a":"xyz"}""", """{"a":"","b":0.5,"c":[true,false]}"""],
            ["\"a\"", """{"a":1}""", """{"a":"abcd"}""", """{"a":"x","b":-1}""", """{"a":"x","c":[true,false,true]}""", """{"a":"x","c":{}}"""]),
        ["const and any"] = new(
            """{"type":"object","properties":{"kind":{"const":"circle"},"anything":{},"flag":true},"required":["kind"]}""",
            ["""{"kind":"circle"}""", """{"kind":"circle","anything":[{"x":"y"}],"flag":false}"""],
            ["""{"kind":"square"}""", """{"anything":1}""", """{"kind":"circle","other":1}"""]),
    };

    private static readonly ConcurrentDictionary<string, GrammarAutomaton> Automata = new();

    public static TheoryData<string> CaseNames() => [.. Cases.Keys];

    private static GrammarAutomaton Automaton(string name) =>
        Automata.GetOrAdd(name, n => new GrammarAutomaton(Compile(Cases[n].Schema)));

    private static Grammar Compile(string schemaJson)
    {
        using var document = JsonDocument.Parse(schemaJson);
        return JsonSchemaGrammar.Build(document.RootElement);
    }

    private static readonly JsonSerializerOptions IndentedOptions = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Indented(string json)
    {
        using var document = JsonDocument.Parse(json);
        return JsonSerializer.Serialize(document.RootElement, IndentedOptions);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void ValidInstancesAreAcceptedCompactAndIndented(string name)
    {
        var automaton = Automaton(name);
        var oracle = new JsonSchemaOracle(Cases[name].Schema);
        foreach (var valid in Cases[name].Valid)
        {
            using (var document = JsonDocument.Parse(valid)) Assert.True(oracle.Errors(document.RootElement) is null, $"the test instance {valid} is itself invalid: {oracle.Errors(document.RootElement)}");
            Assert.True(automaton.Accepts(valid), $"{name}: rejected {valid}");
            var indented = Indented(valid);
            Assert.True(automaton.Accepts(indented), $"{name}: rejected the indented\n{indented}");
        }
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void InvalidInstancesAreRejected(string name)
    {
        var automaton = Automaton(name);
        foreach (var invalid in Cases[name].Invalid) Assert.False(automaton.Accepts(invalid), $"{name}: accepted {invalid}");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void SampledSentencesAreValidJsonForTheSchema(string name)
    {
        var automaton = Automaton(name);
        var oracle = new JsonSchemaOracle(Cases[name].Schema);
        var random = new Random(name.Length * 7919 + name[0]);
        AssertSamplesValid(automaton, random, text =>
        {
            using var document = JsonDocument.Parse(text);
            return oracle.Errors(document.RootElement);
        });
    }

    // 200 complete random sentences, each checked by `errors` (null = fine).
    private static void AssertSamplesValid(GrammarAutomaton automaton, Random random, Func<string, string?> errors)
    {
        int found = 0;
        for (int attempt = 0; attempt < 1000 && found < 200; attempt++)
        {
            var text = GrammarSampler.Sample(automaton, random, maxBytes: 8000);
            if (text is null) continue;
            found++;
            string? problem;
            try
            {
                problem = errors(text);
            }
            catch (JsonException e)
            {
                problem = $"not JSON: {e.Message}";
            }
            Assert.True(problem is null, $"sampled {text}\n{problem}");
        }
        Assert.Equal(200, found);
    }

    [Fact]
    public void OptionalPropertiesMayAppearInEveryCombination()
    {
        // "c" is required; every subset of the other four, in declared order, with commas right, compact and indented.
        var automaton = Automaton("optionals");
        string[] names = ["a", "b", "c", "d", "e"];
        string[] values = ["-12", "false", "null", "\"s\"", "0.5"];
        for (int mask = 0; mask < 32; mask++)
        {
            var members = Enumerable.Range(0, 5).Where(i => (mask >> i & 1) != 0).Select(i => $"\"{names[i]}\":{values[i]}");
            var json = "{" + string.Join(",", members) + "}";
            bool valid = (mask & 4) != 0;
            Assert.Equal(valid, automaton.Accepts(json));
            Assert.Equal(valid, automaton.Accepts(Indented(json)));
            Assert.Equal(valid, automaton.Accepts(json.Replace(",", " , ").Replace(":", " : ").Replace("{", "{\n\t").Replace("}", "\r\n}")));
        }
    }

    [Fact]
    public void NestedOptionalObjectsMatchInEveryCombination()
    {
        var automaton = Automaton("person");
        string[] optional = ["\"email\":\"e\"", "\"address\":{ADDRESS}", "\"tags\":[\"t\"]"];
        string[] address = ["\"street\":\"s\"", "\"city\":\"c\"", "\"zip\":\"12345\""];
        for (int mask = 0; mask < 8; mask++)
        {
            for (int inner = 0; inner < 8; inner++)
            {
                var innerJson = "{" + string.Join(",", Enumerable.Range(0, 3).Where(i => (inner >> i & 1) != 0).Select(i => address[i])) + "}";
                var members = new List<string> { "\"name\":\"n\"", "\"age\":1" };
                members.AddRange(Enumerable.Range(0, 3).Where(i => (mask >> i & 1) != 0).Select(i => optional[i].Replace("{ADDRESS}", innerJson)));
                var json = "{" + string.Join(",", members) + "}";
                bool valid = (mask & 2) == 0 || (inner & 2) != 0; // an address needs its city
                Assert.True(valid == automaton.Accepts(json), json);
                Assert.True(valid == automaton.Accepts(Indented(json)), Indented(json));
            }
        }
    }

    [Theory]
    [InlineData(-15, 123, false, false)]
    [InlineData(0, 0, false, false)]
    [InlineData(-1000, -999, false, false)]
    [InlineData(95, 10001, false, false)]
    [InlineData(-9, 9, true, true)]
    [InlineData(0, null, false, false)]
    [InlineData(null, 7, false, false)]
    [InlineData(-101, null, true, false)]
    [InlineData(null, -99, false, true)]
    [InlineData(1, 1000, false, false)]
    public void IntegerRangesAreExact(int? lo, int? hi, bool exclusiveLo, bool exclusiveHi)
    {
        var keywords = new List<string> { "\"type\":\"integer\"" };
        if (lo is not null) keywords.Add($"\"{(exclusiveLo ? "exclusiveMinimum" : "minimum")}\":{lo}");
        if (hi is not null) keywords.Add($"\"{(exclusiveHi ? "exclusiveMaximum" : "maximum")}\":{hi}");
        var automaton = new GrammarAutomaton(Compile("{" + string.Join(",", keywords) + "}"));
        int from = (lo ?? hi!.Value) - 50, to = (hi ?? lo!.Value) + 50;
        if (lo is not null && hi is not null && hi - lo > 2000) to = lo.Value + 1100; // plus the top below
        var checkedValues = Enumerable.Range(from, to - from + 1).ToList();
        if (lo is not null && hi is not null && hi - lo > 2000) checkedValues.AddRange(Enumerable.Range(hi.Value - 1100, 1151));
        foreach (int value in checkedValues)
        {
            bool inRange = (lo is null || (exclusiveLo ? value > lo : value >= lo)) && (hi is null || (exclusiveHi ? value < hi : value <= hi));
            Assert.True(inRange == automaton.Accepts(value.ToString(CultureInfo.InvariantCulture)), $"{value} in {(exclusiveLo ? "(" : "[")}{lo}, {hi}{(exclusiveHi ? ")" : "]")}");
        }
        foreach (var odd in new[] { "-0", "00", "01", "+1", "1.0", "1e0", "--1" }) Assert.False(automaton.Accepts(odd), odd);
    }

    [Fact]
    public void IntegerRangesAreExactAcrossDigitCountsAndFractionalBounds()
    {
        // Bounds given as fractions or exponents round inwards.
        var automaton = new GrammarAutomaton(Compile("""{"type":"integer","minimum":-2.5,"exclusiveMaximum":1.2e3}"""));
        for (int value = -100; value <= 1300; value++)
            Assert.True((value >= -2 && value <= 1199) == automaton.Accepts(value.ToString(CultureInfo.InvariantCulture)), value.ToString(CultureInfo.InvariantCulture));
        // Big bounds: check numbers around each power of ten up to 10^25 against [-10^20 + 7, 10^22 - 3].
        var big = new GrammarAutomaton(Compile("""{"type":"integer","minimum":-99999999999999999993,"maximum":9999999999999999999997}"""));
        var lo = System.Numerics.BigInteger.Parse("-99999999999999999993", CultureInfo.InvariantCulture);
        var hi = System.Numerics.BigInteger.Parse("9999999999999999999997", CultureInfo.InvariantCulture);
        for (int e = 0; e <= 25; e++)
        {
            var p = System.Numerics.BigInteger.Pow(10, e);
            for (int d = -5; d <= 5; d++)
                foreach (var v in new[] { p + d, -p + d, hi + d, lo + d })
                    Assert.True((v >= lo && v <= hi) == big.Accepts(v.ToString(CultureInfo.InvariantCulture)), v.ToString(CultureInfo.InvariantCulture));
        }
    }

    [Theory]
    [InlineData("""{"exclusiveMinimum":0}""", 1)]
    [InlineData("""{"minimum":0}""", 0)]
    [InlineData("""{"exclusiveMaximum":0}""", -1)]
    [InlineData("""{"maximum":0.0}""", -2)]
    [InlineData("""{"minimum":0,"maximum":0}""", 2)]
    [InlineData("""{"minimum":0,"exclusiveMinimum":true}""", 1)]
    public void NumberSignBoundsAreExact(string bounds, int kind)
    {
        // kind: 1 > 0, 0 ≥ 0, -1 < 0, -2 ≤ 0, 2 = 0.
        var automaton = new GrammarAutomaton(Compile(bounds.Insert(1, "\"type\":\"number\",")));
        string[] texts = ["0", "0.0", "0e5", "0.000E-3", "1", "0.5", "0.001", "1e-300", "12.5E+3", "-0", "-0.0", "-1", "-0.5", "-0.001", "-2e-5", "10", "00", "0.", "-", "1e"];
        foreach (var text in texts)
        {
            bool isNumber = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && !text.EndsWith('.') && !text.StartsWith("00") && !text.EndsWith('e');
            bool minus = text.StartsWith('-');
            bool expected = isNumber && kind switch
            {
                1 => value > 0,
                0 => value >= 0 && !minus,
                -1 => value < 0,
                -2 => value < 0 || (value == 0 && !minus) || (minus && value == 0),
                _ => value == 0 && !minus,
            };
            Assert.True(expected == automaton.Accepts(text), $"{bounds}: {text}");
        }
    }

    [Fact]
    public void WhitespaceBetweenTokensIsBoundedAndNeverAroundTheValue()
    {
        // A gap is nothing, one space, or one line break (\n or \r\n) and up to 20 spaces or tabs.
        var automaton = Automaton("free object");
        Assert.True(automaton.Accepts("{ }"));
        Assert.True(automaton.Accepts("{\n" + new string(' ', 20) + "}"));
        Assert.False(automaton.Accepts("{\n" + new string(' ', 21) + "}"));
        Assert.False(automaton.Accepts("{  }"));
        Assert.False(automaton.Accepts("{\n\n}"));
        Assert.False(automaton.Accepts("{ \n}"));
        Assert.True(automaton.Accepts("{\"a\"\r\n\t\t:\n1 ,\n" + new string('\t', 20) + "\"b\":[ ]}"));
        Assert.False(automaton.Accepts("{\"a\":\r1}"));
        Assert.False(automaton.Accepts(" {}"));
        Assert.False(automaton.Accepts("{}\n"));
        Assert.False(automaton.Accepts("{\"a\":1\f}"));
        // The indented form of a document ten levels deep fits (a newline and 20 spaces before its innermost key).
        var deep = "{\"a\":{\"b\":{\"c\":{\"d\":[{\"e\":[[{\"f\":{\"g\":1}}]]}]}}}}";
        Assert.True(automaton.Accepts(Indented(deep)), Indented(deep));
    }

    [Fact]
    public void AnEnumOfManyThousandValuesCompilesAndMatchesExactly()
    {
        var values = Enumerable.Range(0, 6000).Select(i => i % 3 == 0 ? (object)i : $"v{i}\"é").ToList();
        var schema = JsonSerializer.Serialize(new { @enum = values.Append(new[] { 1, 2 }).Append(null) });
        var automaton = new GrammarAutomaton(JsonSchemaGrammar.Build(JsonDocument.Parse(schema).RootElement));
        foreach (var good in new[] { "0", "5997", "\"v1\\\"é\"", "\"v5999\\\"é\"", "[1,2]", "[ 1, 2 ]", "null" })
            Assert.True(automaton.Accepts(good), good);
        foreach (var bad in new[] { "1", "\"v0\\\"é\"", "\"v1\"", "6000", "[1]", "nul" })
            Assert.False(automaton.Accepts(bad), bad);
    }

    [Fact]
    public void ExtraKeysNeverRepeatAListedProperty()
    {
        // A key of additionalProperties that equals a listed (or false) property would override it when parsed.
        var automaton = new GrammarAutomaton(JsonSchemaGrammar.Build(JsonDocument.Parse(
            """{"type":"object","properties":{"a":{"type":"integer"},"ab":{"type":"integer"},"é":{"type":"integer"},"x":false},"additionalProperties":{"type":"string"}}""").RootElement));
        foreach (var good in new[] { "{}", """{"a":1}""", """{"a":1,"b":"s"}""", """{"aa":"s"}""", """{"abc":"s"}""", """{"":"s"}""", """{"éé":"s","e":"t"}""", """{"xy":"s"}""" })
            Assert.True(automaton.Accepts(good), good);
        foreach (var bad in new[] { """{"a":"s"}""", """{"a":1,"a":"s"}""", """{"ab":"s"}""", """{"é":"s"}""", """{"x":"s"}""", """{"\u0061":"s"}""" })
            Assert.False(automaton.Accepts(bad), bad);
        AssertSamplesValid(automaton, new Random(8), text =>
        {
            using var document = JsonDocument.Parse(text);
            var listed = document.RootElement.EnumerateObject().Where(p => p.Name is "a" or "ab" or "é" or "x").ToList();
            if (listed.Count != listed.Select(p => p.Name).Distinct().Count()) return "a listed property appears twice";
            foreach (var p in document.RootElement.EnumerateObject())
                if (p.Value.ValueKind != (p.Name is "a" or "ab" or "é" ? JsonValueKind.Number : JsonValueKind.String)) return $"'{p.Name}' has a {p.Value.ValueKind}";
            return null;
        });
    }

    [Theory]
    [InlineData("""{"type":"number","minimum":1.5,"maximum":3.25}""")]
    [InlineData("""{"type":"number","exclusiveMinimum":0.1,"maximum":0.3}""")]
    [InlineData("""{"type":"number","minimum":-2.5,"exclusiveMaximum":7}""")]
    [InlineData("""{"type":"number","maximum":-0.5}""")]
    [InlineData("""{"type":"number","exclusiveMinimum":-1}""")]
    [InlineData("""{"type":"number","minimum":2,"maximum":2}""")]
    [InlineData("""{"type":"number","minimum":-0.001,"maximum":0.001}""")]
    [InlineData("""{"type":"number","exclusiveMinimum":-3,"exclusiveMaximum":-2}""")]
    [InlineData("""{"type":"number","minimum":0.25,"exclusiveMinimum":0.25,"maximum":10,"exclusiveMaximum":1e1}""")]
    [InlineData("""{"type":"number","minimum":12.5,"maximum":1.25E1}""")]
    public void NumberBoundsAreExactOnPlainDecimals(string schema)
    {
        // Oracle: plain decimal syntax (no exponent, no "-0") and the value against the bounds, in System.Decimal.
        using var doc = JsonDocument.Parse(schema);
        var root = doc.RootElement;
        decimal? Get(string k) => root.TryGetProperty(k, out var v) ? decimal.Parse(v.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture) : null;
        var (min, xmin, max, xmax) = (Get("minimum"), Get("exclusiveMinimum"), Get("maximum"), Get("exclusiveMaximum"));
        bool InRange(decimal v) => (min is null || v >= min) && (xmin is null || v > xmin) && (max is null || v <= max) && (xmax is null || v < xmax);
        var plain = new Regex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$");
        bool Expected(string text) => plain.IsMatch(text) && !Regex.IsMatch(text, @"^-0(\.0+)?$")
            && InRange(decimal.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
        var automaton = new GrammarAutomaton(JsonSchemaGrammar.Build(root));
        string[] fractions = ["", ".0", ".00", ".001", ".0009", ".0011", ".05", ".1", ".10", ".1000001", ".2", ".25", ".249", ".2500001", ".3", ".30", ".3001", ".5", ".50", ".75", ".999"];
        var texts = new List<string> { "-0", "-0.0", "1e0", "2.5E1", "01.5", "1.", ".5", "+1", "0.", "-", "1.5.1", "1-" };
        for (int i = -13; i <= 13; i++)
            foreach (var f in fractions)
            {
                texts.Add(i.ToString(CultureInfo.InvariantCulture) + f);
                if (i == 0) texts.Add("-0" + f);
            }
        int accepted = 0;
        foreach (var text in texts)
        {
            bool expected = Expected(text);
            Assert.True(expected == automaton.Accepts(text), $"{schema}: '{text}' expected {(expected ? "accepted" : "rejected")}");
            if (expected) accepted++;
        }
        Assert.True(accepted > 0);
        AssertSamplesValid(automaton, new Random(schema.Length), text => Expected(text) ? null : $"'{text}' is outside the bounds or not a plain decimal");
    }

    [Fact]
    public void EmptyNumberRangesAreRefused()
    {
        foreach (var schema in new[] { """{"type":"number","minimum":3,"maximum":2.5}""", """{"type":"number","exclusiveMinimum":2,"maximum":2}""", """{"type":"number","minimum":-1.5,"exclusiveMaximum":-1.5}""" })
        {
            var e = Assert.Throws<GrammarException>(() => JsonSchemaGrammar.Build(JsonDocument.Parse(schema).RootElement));
            Assert.Contains("no number satisfies", e.Message);
        }
    }

    [Fact]
    public void AnyObjectAcceptsObjectsOnly()
    {
        var automaton = new GrammarAutomaton(JsonSchemaGrammar.AnyObject());
        foreach (var good in new[] { "{}", """{"a":1}""", """{"a":[true,false,null,{"b":"\u00e9\n"}],"c":{"d":-0.5e-3}}""", """{"a":1,"a":2}""", Indented("""{"x":[1,{"y":"z"}],"w":{}}""") })
            Assert.True(automaton.Accepts(good), good);
        foreach (var bad in new[] { "[]", "1", "\"s\"", "null", "{", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":01}", "{} ", "{\"a\":tru}" })
            Assert.False(automaton.Accepts(bad), bad);
        AssertSamplesValid(automaton, new Random(5), text =>
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.ValueKind == JsonValueKind.Object ? null : "not an object";
        });
    }

    [Theory]
    [InlineData("true")]
    [InlineData("{}")]
    [InlineData("""{"description":"anything","$schema":"https://json-schema.org/draft/2020-12/schema"}""")]
    public void EmptySchemasMatchAnyValue(string schema)
    {
        var automaton = new GrammarAutomaton(Compile(schema));
        foreach (var good in new[] { "1", "-2.5e3", "\"x\"", "null", "true", "[]", "{}", """[{"a":[null]}]""" })
            Assert.True(automaton.Accepts(good), good);
        foreach (var bad in new[] { "", "nul", "[", "{]", "'x'", "NaN", "1 2" })
            Assert.False(automaton.Accepts(bad), bad);
    }

    [Fact]
    public void PatternStringsDecodeToFullMatches()
    {
        // Sampled strings, once decoded, fully match the pattern (the characters '"', '\' and newline come escaped).
        var automaton = Automaton("pattern with escapes");
        var regex = new Regex("^[a-c\"\\\\\\n]{1,6}$", RegexOptions.None, TimeSpan.FromSeconds(1));
        AssertSamplesValid(automaton, new Random(11), text =>
        {
            using var document = JsonDocument.Parse(text);
            var value = document.RootElement.GetString()!;
            return regex.IsMatch(value) ? null : $"'{value}' does not match";
        });
    }

    [Fact]
    public void ControlCharactersInPatternsAreEscapedEitherHexCase()
    {
        var automaton = new GrammarAutomaton(Compile("""{"type":"string","pattern":"^a[\\x00-\\x1f]?$"}"""));
        foreach (var good in new[] { "\"a\"", "\"a\\u001f\"", "\"a\\u001F\"", "\"a\\u0000\"", "\"a\\n\"" }) Assert.True(automaton.Accepts(good), good);
        foreach (var bad in new[] { "\"a\u0001\"", "\"a\\u0020\"", "\"a\\u000a\"", "\"a\\x\"" }) Assert.False(automaton.Accepts(bad), bad);
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"a":{"not":{}}}}""", "not")]
    [InlineData("""{"if":{"type":"string"},"then":{"minLength":1}}""", "if")]
    [InlineData("""{"type":"integer","multipleOf":2}""", "multipleOf")]
    [InlineData("""{"allOf":[{"type":"string"},{"maxLength":3}]}""", "allOf")]
    [InlineData("""{"type":"array","uniqueItems":true}""", "uniqueItems")]
    [InlineData("""{"type":"array","contains":{"type":"string"}}""", "contains")]
    [InlineData("""{"type":"array","minContains":1}""", "minContains")]
    [InlineData("""{"type":"array","unevaluatedItems":false}""", "unevaluatedItems")]
    [InlineData("""{"type":"array","items":[{"type":"string"}]}""", "items")]
    [InlineData("""{"type":"object","minProperties":1}""", "minProperties")]
    [InlineData("""{"type":"object","maxProperties":1}""", "maxProperties")]
    [InlineData("""{"type":"object","patternProperties":{"^a":{}}}""", "patternProperties")]
    [InlineData("""{"type":"object","propertyNames":{"maxLength":3}}""", "propertyNames")]
    [InlineData("""{"type":"object","dependentRequired":{"a":["b"]}}""", "dependentRequired")]
    [InlineData("""{"type":"object","dependentSchemas":{"a":{}}}""", "dependentSchemas")]
    [InlineData("""{"type":"object","dependencies":{"a":["b"]}}""", "dependencies")]
    [InlineData("""{"type":"object","unevaluatedProperties":false}""", "unevaluatedProperties")]
    [InlineData("""{"type":"object","properties":{"a":{}},"required":["b"]}""", "required")]
    [InlineData("""{"type":"integer","maximum":1e200}""", "maximum")]
    [InlineData("""{"$ref":"https://example.com/schema"}""", "$ref")]
    [InlineData("""{"$ref":"#/properties/a","properties":{"a":{}}}""", "$ref")]
    [InlineData("""{"$ref":"#/$defs/missing"}""", "$ref")]
    [InlineData("""{"$defs":{"a":{"type":"string"}},"$ref":"#/$defs/a","maxLength":3}""", "maxLength")]
    [InlineData("""{"anyOf":[{"type":"string"}],"type":"string"}""", "type")]
    [InlineData("""{"oneOf":[{"type":"string"}],"minLength":1}""", "minLength")]
    [InlineData("""{"enum":[1,2],"minimum":0}""", "minimum")]
    [InlineData("""{"type":"string","format":"date","maxLength":5}""", "maxLength")]
    [InlineData("""{"type":"string","pattern":"^a+$","minLength":1}""", "minLength")]
    [InlineData("""{"type":"string","pattern":"(unclosed"}""", "pattern")]
    [InlineData("""{"type":"string","nullable":true}""", "nullable")]
    [InlineData("""{"properties":{"x":{"$id":"https://example.com/x"}}}""", "$id")]
    [InlineData("""{"$anchor":"a"}""", "$anchor")]
    [InlineData("""{"$dynamicRef":"#a"}""", "$dynamicRef")]
    [InlineData("""{"contentMediaType":"text/html"}""", "contentMediaType")]
    [InlineData("""{"typo":"string"}""", "typo")]
    [InlineData("""{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"anyOf":[{"$ref":"#/$defs/a"},{"type":"null"}]}},"$ref":"#/$defs/a"}""", "$ref")]
    [InlineData("""{"anyOf":[{"type":"null"},{"$ref":"#"}]}""", "$ref")]
    [InlineData("""{"$defs":{"x":{"$ref":"#/$defs/y"},"y":{"anyOf":[{"type":"array","items":{"$ref":"#/$defs/x"}},{"$ref":"#/$defs/x"}]}},"$ref":"#/$defs/y"}""", "$ref")]
    [InlineData("""{"type":"strin"}""", "type")]
    [InlineData("""{"type":"string","minLength":-1}""", "minLength")]
    [InlineData("""{"type":"string","maxLength":1.5}""", "maxLength")]
    [InlineData("""{"type":"string","maxLength":10000000}""", "maxLength")]
    [InlineData("""{"type":"array","minItems":"2"}""", "minItems")]
    [InlineData("""{"type":"object","properties":[]}""", "properties")]
    [InlineData("""{"enum":"a"}""", "enum")]
    [InlineData("""{"type":"integer","exclusiveMinimum":true}""", "exclusiveMinimum")]
    public void UnsupportedOrInvalidKeywordsAreRefusedByName(string schema, string keyword)
    {
        var error = Assert.Throws<GrammarException>(() => Compile(schema));
        Assert.StartsWith("json_schema: ", error.Message);
        Assert.Contains($"'{keyword}", error.Message);
    }

    [Fact]
    public void RefusalsNameTheJsonPointer()
    {
        Assert.Equal("json_schema: 'not' at /properties/a is not supported",
            Assert.Throws<GrammarException>(() => Compile("""{"type":"object","properties":{"a":{"not":{}}}}""")).Message);
        Assert.Equal("json_schema: 'foo' at /$defs/x~1y/items is not supported",
            Assert.Throws<GrammarException>(() => Compile("""{"$defs":{"x/y":{"type":"array","items":{"foo":1}}},"$ref":"#/$defs/x~1y"}""")).Message);
        Assert.Equal("json_schema: 'if' at the top level is not supported", Assert.Throws<GrammarException>(() => Compile("""{"if":{}}""")).Message);
        Assert.Contains("/anyOf/1", Assert.Throws<GrammarException>(() => Compile("""{"anyOf":[{},{"not":{}}]}""")).Message);
    }

    [Theory]
    [InlineData("false")]
    [InlineData("""{"type":"object","properties":{"a":false},"required":["a"]}""")]
    [InlineData("""{"type":"integer","minimum":5,"maximum":4}""")]
    [InlineData("""{"type":"integer","exclusiveMinimum":4,"exclusiveMaximum":5}""")]
    [InlineData("""{"type":"number","exclusiveMinimum":0,"maximum":0}""")]
    [InlineData("""{"type":"string","minLength":3,"maxLength":2}""")]
    [InlineData("""{"type":"array","minItems":3,"maxItems":2}""")]
    [InlineData("""{"type":"array","prefixItems":[{}],"items":false,"minItems":2}""")]
    [InlineData("""{"type":"string","enum":[1,2]}""")]
    [InlineData("""{"enum":[1,2],"const":3}""")]
    [InlineData("3")]
    public void UnsatisfiableSchemasAreRefused(string schema)
    {
        var error = Assert.Throws<GrammarException>(() => Compile(schema));
        Assert.StartsWith("json_schema: ", error.Message);
    }

    [Fact]
    public void FalseSubschemasForbidWhatTheyGuard()
    {
        // An optional property whose schema is false is never written; a false prefix item ends the array there.
        var objects = new GrammarAutomaton(Compile("""{"type":"object","properties":{"a":false,"b":{"type":"integer"}}}"""));
        Assert.True(objects.Accepts("{}"));
        Assert.True(objects.Accepts("""{"b":1}"""));
        Assert.False(objects.Accepts("""{"a":1}"""));
        Assert.False(objects.Accepts("""{"c":1}"""));
        var arrays = new GrammarAutomaton(Compile("""{"type":"array","prefixItems":[{"type":"null"},false,{}]}"""));
        Assert.True(arrays.Accepts("[null]"));
        Assert.False(arrays.Accepts("[null,1]"));
        var choices = new GrammarAutomaton(Compile("""{"anyOf":[false,{"type":"null"}]}"""));
        Assert.True(choices.Accepts("null"));
    }

    [Fact]
    public void DeepSchemasAndLongRefChainsAreRefusedOrCompiledWithoutExhaustingTheStack()
    {
        // A $ref chain of 5000 definitions, each an array of the next: deeper than the compiler allows.
        var defs = string.Join(",", Enumerable.Range(0, 5000).Select(i => $"\"d{i}\":{{\"type\":\"array\",\"items\":{{\"$ref\":\"#/$defs/d{i + 1}\"}}}}"));
        var chain = $"{{\"$defs\":{{{defs},\"d5000\":{{\"type\":\"null\"}}}},\"$ref\":\"#/$defs/d0\"}}";
        Assert.Contains("nests more than", Assert.Throws<GrammarException>(() => Compile(chain)).Message);
        // 5000 definitions each referring to the previous one, compiled one at a time: fine, and a long left-recursion check.
        var flat = string.Join(",", Enumerable.Range(0, 5000).Select(i => i == 0 ? "\"d0\":{\"type\":\"null\"}" : $"\"d{i}\":{{\"anyOf\":[{{\"$ref\":\"#/$defs/d{i - 1}\"}},{{\"type\":\"boolean\"}}]}}"));
        var refs = string.Join(",", Enumerable.Range(0, 5000).Select(i => $"{{\"$ref\":\"#/$defs/d{i}\"}}"));
        var automaton = new GrammarAutomaton(Compile($"{{\"$defs\":{{{flat}}},\"anyOf\":[{refs}]}}"));
        Assert.True(automaton.Accepts("null"));
        Assert.True(automaton.Accepts("false"));
        Assert.False(automaton.Accepts("0"));
        // The same chain closed into a loop (d0 refers to the last) is refused (left recursion, found here as too deep).
        var loop = flat.Replace("\"d0\":{\"type\":\"null\"}", "\"d0\":{\"anyOf\":[{\"$ref\":\"#/$defs/d4999\"},{\"type\":\"null\"}]}");
        Assert.StartsWith("json_schema:", Assert.Throws<GrammarException>(() => Compile($"{{\"$defs\":{{{loop}}},\"anyOf\":[{refs}]}}")).Message);
        // A short loop compiled the same way is reported as recursion.
        var shortLoop = """{"$defs":{"d0":{"anyOf":[{"$ref":"#/$defs/d2"},{"type":"null"}]},"d1":{"anyOf":[{"$ref":"#/$defs/d0"}]},"d2":{"anyOf":[{"$ref":"#/$defs/d1"}]}},"anyOf":[{"$ref":"#/$defs/d0"}]}""";
        Assert.Contains("recursion with no object or array in between (#/$defs/d0 -> #/$defs/d2 -> #/$defs/d1 -> #/$defs/d0)", Assert.Throws<GrammarException>(() => Compile(shortLoop)).Message);
    }

    [Fact]
    public void OlderSpellingsAreUnderstood()
    {
        // Draft 4 boolean exclusiveMinimum, "definitions", a top-level $id, nullable: false, and annotations everywhere.
        var automaton = new GrammarAutomaton(Compile("""
            {"$id":"https://example.com/s","$schema":"http://json-schema.org/draft-04/schema#","definitions":{"n":{"type":"integer","minimum":5,"exclusiveMinimum":true,"nullable":false,"readOnly":true}},
             "type":"array","items":{"$ref":"#/definitions/n","$comment":"c"},"examples":[[6]],"deprecated":false,"writeOnly":false}
            """));
        Assert.True(automaton.Accepts("[6,100]"));
        Assert.False(automaton.Accepts("[5]"));
        Assert.False(automaton.Accepts("[null]"));
    }

    [Fact]
    public void FormatsThatAreNotEnforcedAreAnnotations()
    {
        var automaton = new GrammarAutomaton(Compile("""{"type":"string","format":"email","maxLength":12}"""));
        Assert.True(automaton.Accepts("\"not an email\""));
        Assert.False(automaton.Accepts("\"not an email!\""));
    }

    [Fact]
    public void EnumAndConstHonourTypeAndEachOther()
    {
        var automaton = new GrammarAutomaton(Compile("""{"type":["integer","string"],"enum":[1,1.0,1.5,"a",null,"a"],"const":"a"}"""));
        Assert.True(automaton.Accepts("\"a\""));
        foreach (var bad in new[] { "1", "1.0", "1.5", "null" }) Assert.False(automaton.Accepts(bad), bad);
        var typed = new GrammarAutomaton(Compile("""{"type":"integer","enum":[1,1.0,1.5,"a"]}"""));
        Assert.True(typed.Accepts("1"));
        Assert.True(typed.Accepts("1.0"));
        Assert.False(typed.Accepts("1.5"));
        Assert.False(typed.Accepts("\"a\""));
    }
}
