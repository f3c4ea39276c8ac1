// The values the fuzzer puts where a request's values were: raw JSON fragments (so they can be what JsonNode cannot hold:
// 1e309, -0, 2^63, lone-surrogate escapes, bytes that are not UTF-8), chosen partly by the field's name (roles, schemas,
// regexes, grammars, token ids). Invariant: every fragment is a complete JSON value except the few marked as broken text.
using System.Text;

namespace Estuary.Server.Tests.Fuzzing;

internal static class EvilValues
{
    private static readonly string[] s_any =
    [
        "null", "true", "false", "0", "-0", "-0.0", "1", "-1", "1.5", "-1.5", "2", "3", "20", "21", "64", "65", "100", "101", "511", "512", "513",
        "1e309", "-1e309", "1e-400", "4.9e-324", "1e39", "-1e39", "3.4028236e38", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "18446744073709551616", "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967296",
        "1e18", "123456789012345678901234567890", "0.000000001", "1E2", "1e2", "100.0",
        "\"\"", "\" \"", "\"x\"", "\"5\"", "\"true\"", "\"null\"", "\"NaN\"", "\"Infinity\"", "\"-1\"", "\"\\u0000\"", "\"\\ud800\"",
        "\"a\\udc00b\"", "\"\\ud800\\ud800\"", "\"\\udbff\"", "\"😀\\ud83d\"", "\"<|eot_id|>\"", "\"</s>\"", "\"<s>\"", "\"[INST]\"",
        "\"{{ raise_exception('x') }}\"", "\"{%\"", "\"\\n\\n\\n\"", "\"你是谁?\"",
        "[]", "{}", "[null]", "[1e309]", "[-1]", "[0]", "[2147483648]", "[\"\"]", "[[]]", "[{}]", "[true]", "[\"a\",1]", "{\"\":null}",
        "{\"type\":\"text\"}", "{\"role\":\"user\",\"content\":\"hi\"}",
    ];

    // Fragments that are not valid JSON, or whose string is not valid UTF-8: the body must be refused as such (400).
    private static readonly byte[][] s_broken =
    [
        [0x22, 0x61, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],
        [0x22, 0xE4, 0xBD, 0x22], "NaN"u8.ToArray(), "Infinity"u8.ToArray(), "-Infinity"u8.ToArray(), "undefined"u8.ToArray(),
        "01"u8.ToArray(), "1."u8.ToArray(), ".5"u8.ToArray(), "+1"u8.ToArray(), "0x10"u8.ToArray(), "'a'"u8.ToArray(),
        "\"\\x41\""u8.ToArray(), "\"\\u12\""u8.ToArray(), "[1,]"u8.ToArray(), "{\"a\":1,}"u8.ToArray(), "\"a\tb\""u8.ToArray(),
    ];

    private static readonly string[] s_roles = ["\"wizard\"", "\"\"", "\"USER\"", "\"function\"", "\"tool\"", "\"developer\"", "\"system\"", "\"assistant\"", "\"user \""];

    private static readonly string[] s_schemas =
    [
        "{\"$ref\":\"#/$defs/a\",\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"$ref\":\"#/$defs/a\"}}}",
        "{\"$ref\":\"#/$defs/missing\"}", "{\"$ref\":\"http://example.com/s.json\"}", "{\"$ref\":\"#\"}",
        "{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#\"}},\"required\":[\"a\"]}",
        "{\"type\":\"string\",\"pattern\":\"(a+)+$\"}", "{\"type\":\"string\",\"pattern\":\"(a|aa)*c\"}", "{\"type\":\"string\",\"pattern\":\"(\"}",
        "{\"type\":\"string\",\"minLength\":1000000000}", "{\"type\":\"string\",\"minLength\":5,\"maxLength\":2}", "{\"type\":\"array\",\"minItems\":100000}",
        "{\"type\":\"integer\",\"minimum\":10,\"maximum\":1}", "{\"type\":\"number\",\"minimum\":1e309}", "{\"type\":\"integer\",\"multipleOf\":0}",
        "{\"type\":\"integer\",\"minimum\":-9223372036854775809}", "{\"type\":\"unknown\"}", "{\"type\":[]}", "{\"type\":5}", "{\"enum\":[]}",
        "{\"anyOf\":[]}", "{\"allOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "{\"not\":{}}", "{\"oneOf\":[{},{}]}",
        "{\"type\":\"object\",\"required\":[\"x\"],\"additionalProperties\":false}", "{\"properties\":5}", "{\"items\":[1]}",
        "{\"type\":\"string\",\"format\":\"date-time\"}", "{\"const\":{\"a\":[1,2,{\"b\":null}]}}", "{\"if\":{},\"then\":{}}", "false", "true", "{}",
    ];

    private static readonly string[] s_regexes =
    [
        "(a+)+$", "(a|aa)*b", "(.*a){12}", "a{1000}{1000}", "a{2147483647}", "a{5,2}", "[^]", "[z-a]", "\\\\p{L}+", "(?i)x", "a**", "x{0,100000}",
        "(", ")", "[", "\\\\", "(?=a)", "(?<n>a)\\\\k<n>", "\\\\1", "^$", "", "\\\\b", ".*", "[\\\\d\\\\D]{3}", "\\\\u{1F600}", "(a|b|c|d|e|f|g|h){1,50}",
    ];

    private static readonly string[] s_grammars =
    [
        "root ::= root \\\"a\\\"", "root ::= x", "root ::= \\\"a\\\"*", "", "root ::= [", "root ::= \\\"\\\"", "root ::= [^]", "a ::= \\\"a\\\"",
        "root ::= (\\\"a\\\" | \\\"b\\\")+ root?", "root ::= \\\"a\\\" root \\\"b\\\" | \\\"\\\"",
    ];

    /// <summary>A raw JSON fragment for the field named <paramref name="key"/> (null: an array element or the root).</summary>
    public static byte[] For(string? key, Random random)
    {
        switch (key)
        {
            case "role" when random.Next(2) == 0:
                return Utf8(s_roles[random.Next(s_roles.Length)]);
            case "schema" or "guided_json" or "json" or "parameters" when random.Next(2) == 0:
                return Utf8(random.Next(4) == 0 ? DeepRefSchema(random.Next(2, 400)) : random.Next(6) == 0 ? HugeEnum(random.Next(1000, 20000)) : s_schemas[random.Next(s_schemas.Length)]);
            case "guided_regex" or "regex" or "pattern" when random.Next(2) == 0:
                return Utf8($"\"{s_regexes[random.Next(s_regexes.Length)]}\"");
            case "guided_grammar" or "grammar" when random.Next(2) == 0:
                return Utf8($"\"{s_grammars[random.Next(s_grammars.Length)]}\"");
            case "guided_decoding_guide" when random.Next(2) == 0:
                return Utf8(System.Text.Json.JsonSerializer.Serialize(random.Next(2) == 0
                    ? s_schemas[random.Next(s_schemas.Length)]
                    : s_regexes[random.Next(s_regexes.Length)].Replace("\\\\", "\\", StringComparison.Ordinal)));
            case "prompt" or "tokens" or "stop_token_ids" when random.Next(2) == 0:
                return Utf8(TokenIds(random));
            case "logit_bias" when random.Next(2) == 0:
                return Utf8($"{{\"{Pick(random, "-1", "0", "1459", "512", "99999999999", "1e3", "a", "", " 1", "01")}\":{Pick(random, "100", "-100", "1e309", "100.0001", "\"1\"", "null", "-0")}}}");
        }
        return random.Next(14) switch
        {
            0 => s_broken[random.Next(s_broken.Length)],
            1 => Utf8(LongString(random)),
            2 => Utf8(Nested(random.Next(2) == 0 ? '[' : '{', random.Next(20, 200))),
            3 => Utf8(LongArray(random)),
            _ => Utf8(s_any[random.Next(s_any.Length)]),
        };
    }

    /// <summary>A broken fragment: invalid UTF-8 inside a string, or a token that is not JSON.</summary>
    public static byte[] Broken(Random random) => s_broken[random.Next(s_broken.Length)];

    private static string TokenIds(Random random) => random.Next(5) switch
    {
        0 => "[-1]",
        1 => "[1, 1459, 512]",
        2 => "[2147483647]",
        3 => "[" + string.Join(",", Enumerable.Range(0, random.Next(500, 3000)).Select(i => (i * 7 + 1) % 400)) + "]",
        _ => "[[1,2],[-5]]",
    };

    private static string LongString(Random random)
    {
        int length = random.Next(4) == 0 ? random.Next(100_000, 1_000_000) : random.Next(1_000, 20_000);
        var piece = Pick(random, "a", "Once upon a time ", "<|eot_id|>", "你", "\\n", "\\\"");
        var text = new StringBuilder(length + piece.Length);
        while (text.Length < length) text.Append(piece);
        return "\"" + text + "\"";
    }

    private static string LongArray(Random random)
    {
        int count = random.Next(1_000, 50_000);
        var item = Pick(random, "1", "\"x\"", "null", "{}", "{\"role\":\"user\",\"content\":\"a\"}");
        return "[" + string.Join(",", Enumerable.Repeat(item, count)) + "]";
    }

    private static string Nested(char open, int depth)
    {
        char close = open == '[' ? ']' : '}';
        var inner = open == '[' ? "1" : "null";
        var prefix = open == '[' ? "[" : "{\"a\":";
        return string.Concat(Enumerable.Repeat(prefix, depth)) + inner + new string(close, depth);
    }

    private static string DeepRefSchema(int depth)
    {
        var defs = string.Join(",", Enumerable.Range(0, depth).Select(i => i + 1 < depth
            ? $"\"d{i}\":{{\"type\":\"object\",\"properties\":{{\"x\":{{\"$ref\":\"#/$defs/d{i + 1}\"}}}}}}"
            : $"\"d{i}\":{{\"type\":\"integer\"}}"));
        return $"{{\"$ref\":\"#/$defs/d0\",\"$defs\":{{{defs}}}}}";
    }

    private static string HugeEnum(int count) => "{\"enum\":[" + string.Join(",", Enumerable.Range(0, count).Select(i => $"\"v{i}\"")) + "]}";

    private static string Pick(Random random, params string[] options) => options[random.Next(options.Length)];

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
