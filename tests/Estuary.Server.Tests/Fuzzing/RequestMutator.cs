// Turns a valid seed request into a mutated one, deterministically from its Random: values replaced by EvilValues at any
// depth, fields removed, added (known fields of every API, with bad values) or given twice, bodies cut short or broken at the
// byte level or replaced by non-JSON, paths and Content-Types changed, and some requests hung up early or mid-stream.
// Invariant: the same Random state gives the same request bytes (no clock, no hash-order dependence).
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Estuary.Server.Tests.Fuzzing;

internal sealed class RequestMutator(Random random)
{
    private const string RawMarker = "~~RAW";
    private const string DupMarker = "~~DUP~~";
    private static readonly JsonSerializerOptions s_write = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    // Every field some endpoint reads, so an added field reaches the code that reads it.
    private static readonly string[] s_fields =
    [
        "model", "messages", "prompt", "max_tokens", "max_completion_tokens", "temperature", "top_p", "n", "stop", "seed", "presence_penalty",
        "frequency_penalty", "stream", "stream_options", "user", "top_k", "min_p", "repetition_penalty", "ignore_eos", "min_tokens",
        "skip_special_tokens", "stop_token_ids", "prompt_logprobs", "logit_bias", "response_format", "guided_json", "guided_regex",
        "guided_choice", "guided_grammar", "structured_outputs", "tools", "best_of", "functions", "tool_choice", "parallel_tool_calls",
        "tool_prompt", "add_generation_prompt", "continue_final_message", "logprobs", "top_logprobs", "echo", "suffix", "text_input",
        "bad_words", "stop_words", "end_id", "pad_id", "min_length", "random_seed", "beam_width", "exclude_input_in_output",
        "return_log_probs", "guided_decoding_guide_type", "guided_decoding_guide", "add_special_tokens", "return_token_strs", "tokens",
        "include_usage", "content", "role", "tool_calls", "tool_call_id", "name", "type", "function", "arguments", "json_schema", "schema",
        "regex", "choice", "grammar", "json_object", "structural_tag", "unknown_field", "", "MAX_TOKENS",
        "reasoning", "reasoning_content", "include_reasoning", "chat_template_kwargs", "input", "instructions", "max_output_tokens", "text",
        "format", "previous_response_id", "store", "background", "truncation", "include", "metadata", "call_id", "output", "summary",
        "truncate_prompt_tokens", "allowed_token_ids", "return_tokens_as_token_ids", "continuous_usage_stats", "priority",
    ];

    // Valid settings that take other paths through the server; several together make combinations no seed has.
    private static readonly (string Field, string Value)[] s_features =
    [
        ("stream", "true"), ("stream", "false"), ("n", "3"), ("n", "1"), ("n", "8"), ("echo", "true"), ("logprobs", "true"), ("logprobs", "5"),
        ("top_logprobs", "20"), ("prompt_logprobs", "20"), ("prompt_logprobs", "0"), ("stream_options", "{\"include_usage\":true}"),
        ("stream_options", "{\"include_usage\":false}"), ("max_tokens", "1"), ("max_tokens", "0"), ("max_tokens", "511"), ("max_tokens", "200"),
        ("max_completion_tokens", "3"), ("ignore_eos", "true"), ("min_tokens", "4"), ("stop", "[\" \",\"e\"]"), ("stop", "\"the\""),
        ("stop_token_ids", "[2]"), ("stop_token_ids", "[]"), ("logit_bias", "{\"2\":100}"), ("logit_bias", "{\"2\":-100,\"1\":-100}"),
        ("temperature", "0"), ("temperature", "2"), ("top_k", "1"), ("top_p", "0.01"), ("seed", "-1"), ("seed", "9223372036854775807"),
        ("skip_special_tokens", "false"), ("add_generation_prompt", "false"), ("continue_final_message", "true"), ("tool_choice", "\"none\""),
        ("tool_choice", "\"auto\""), ("tool_choice", "\"required\""), ("parallel_tool_calls", "false"), ("response_format", "{\"type\":\"json_object\"}"),
        ("response_format", "{\"type\":\"text\"}"), ("guided_choice", "[\"a\",\"b\"]"), ("guided_regex", "\"(yes|no)\""),
        ("exclude_input_in_output", "true"), ("return_log_probs", "true"), ("random_seed", "18446744073709551615"), ("min_length", "3"),
        ("end_id", "0"), ("bad_words", "[\"the\",\"a\"]"), ("stop_words", "\"a,b\""), ("repetition_penalty", "2"), ("presence_penalty", "-2"),
        ("frequency_penalty", "2"), ("min_p", "1"), ("add_special_tokens", "false"), ("best_of", "3"), ("user", "\"someone\""),
        ("tools", "[]"), ("tool_choice", "null"), ("messages", "[{\"role\":\"user\",\"content\":\"\"}]"),
        ("messages", "[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":\"u\"},{\"role\":\"assistant\",\"content\":\"a\"}]"),
        ("messages", "[{\"role\":\"user\",\"content\":\"u\"},{\"role\":\"system\",\"content\":\"late\"}]"),
        ("prompt", "\"\""), ("prompt", "[1]"), ("prompt", "[[1],[2,3]]"), ("text_input", "\"\""),
        ("messages", "[{\"role\":\"user\",\"content\":\"RAISE now\"}]"), ("text_input", "\"RAISE\""),
        // Long prompts (near the 512-token context), so a hang-up lands mid-prefill and chunked prefill runs.
        ("prompt", "[" + string.Join(",", Enumerable.Range(0, 480).Select(i => 1 + i * 13 % 250)) + "]"),
        ("messages", "[{\"role\":\"user\",\"content\":\"" + string.Concat(Enumerable.Repeat("Once upon a time ", 90)) + "\"}]"),
        ("text_input", "\"" + string.Concat(Enumerable.Repeat("the dog ran ", 100)) + "\""),
        ("include_reasoning", "false"), ("max_output_tokens", "1"), ("max_output_tokens", "300"), ("instructions", "\"Be brief\""),
        ("input", "\"\""), ("input", "[]"), ("input", "[{\"type\":\"reasoning\",\"content\":[{\"type\":\"reasoning_text\",\"text\":\"r\"}]},{\"role\":\"assistant\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"u\"}]"),
        ("truncate_prompt_tokens", "1"), ("truncate_prompt_tokens", "-1"), ("truncate_prompt_tokens", "3"), ("allowed_token_ids", "[2]"),
        ("allowed_token_ids", "[5,6,7]"), ("return_tokens_as_token_ids", "true"), ("priority", "0"),
        ("stream_options", "{\"include_usage\":true,\"continuous_usage_stats\":true}"),
        ("text", "{\"format\":{\"type\":\"json_object\"}}"), ("store", "true"), ("previous_response_id", "\"resp_0\""), ("truncation", "\"disabled\""),
        ("chat_template_kwargs", "{\"enable_thinking\":false}"),
    ];

    private static readonly string?[] s_contentTypes =
        [null, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=iso-8859-1", "multipart/form-data", "application/xml", "*/*"];

    private static readonly byte[][] s_wholeBodies =
    [
        [], "null"u8.ToArray(), "[]"u8.ToArray(), "\"text\""u8.ToArray(), "1"u8.ToArray(), "{"u8.ToArray(), "}"u8.ToArray(), "{}"u8.ToArray(),
        "prompt=hi&max_tokens=5"u8.ToArray(), "<request><prompt>hi</prompt></request>"u8.ToArray(), [0xEF, 0xBB, 0xBF, 0x7B, 0x7D],
        [0xFF, 0xFE, 0x7B, 0x00, 0x7D, 0x00], "{\"a\":1}{\"b\":2}"u8.ToArray(), "{\"messages\":[]} trailing"u8.ToArray(), " \n\t "u8.ToArray(),
    ];

    // The read-only routes, with a model or version from ModelIds where {m} / {v} stand.
    private static readonly string[] s_readRoutes =
    [
        "/v1/models", "/v1/models/{m}", "/v2", "/v2/models/{m}", "/v2/models/{m}/versions/{v}", "/v2/models/{m}/ready",
        "/v2/models/{m}/versions/{v}/ready", "/health", "/v2/health/live", "/v2/health/ready", "/version", "/metrics",
        "/v1/chat/completions", "/v2/models/{m}/generate", "/tokenize", "/inference", "/nothing/{m}",
    ];

    private static readonly string[] s_modelIds =
        ["fuzzed", "ensemble", "nope", "%ff", "..", "a%2Fb", "%20", "1", "-1", "versions", new string('m', 3000), "%E4%BD%A0", "fuzzed%00"];

    public FuzzRequest Next(int index, string path, string seedBody)
    {
        if (random.Next(25) == 0) return ReadOnly(index);
        var description = new List<string>();
        byte[] body;
        int roll = random.Next(100);
        if (roll < 8)
        {
            description.Add("seed as is");
            body = Encoding.UTF8.GetBytes(seedBody);
        }
        else if (roll < 15)
        {
            body = WholeBody(description);
        }
        else
        {
            body = MutateJson(seedBody, description);
            if (random.Next(8) == 0) body = MutateBytes(body, description);
        }
        if (random.Next(20) == 0) path = MutatePath(path, description);
        string? contentType = "application/json";
        if (random.Next(10) == 0)
        {
            contentType = s_contentTypes[random.Next(s_contentTypes.Length)];
            description.Add($"content-type {contentType ?? "none"}");
        }
        var hangup = random.Next(100) switch
        {
            < 6 => Hangup.Early,
            < 12 => Hangup.AfterFirstBytes,
            _ => Hangup.None,
        };
        return new FuzzRequest(index, path, body, contentType, string.Join("; ", description), hangup);
    }

    private FuzzRequest ReadOnly(int index)
    {
        var route = s_readRoutes[random.Next(s_readRoutes.Length)]
            .Replace("{m}", s_modelIds[random.Next(s_modelIds.Length)], StringComparison.Ordinal)
            .Replace("{v}", s_modelIds[random.Next(s_modelIds.Length)] is var v && random.Next(2) == 0 ? "1" : v, StringComparison.Ordinal);
        var method = random.Next(4) == 0 ? "HEAD" : "GET";
        return new FuzzRequest(index, route, [], null, method, Hangup.None) { Method = method };
    }

    private byte[] WholeBody(List<string> description)
    {
        switch (random.Next(4))
        {
            case 0:
                var bytes = new byte[random.Next(1, 400)];
                random.NextBytes(bytes);
                description.Add("random bytes");
                return bytes;
            case 1:
                description.Add("nested 5000 deep");
                return Encoding.UTF8.GetBytes("{\"messages\":" + new string('[', 5000) + new string(']', 5000) + "}");
            default:
                var body = s_wholeBodies[random.Next(s_wholeBodies.Length)];
                description.Add("body " + Encoding.UTF8.GetString(body));
                return body;
        }
    }

    private byte[] MutateJson(string seedBody, List<string> description)
    {
        var root = JsonNode.Parse(seedBody)!;
        var raws = new List<byte[]>();
        // Mostly one or two changes: a request with many bad values fails on the first and reaches nothing deeper.
        int features = random.Next(4) == 0 ? 0 : random.Next(1, 4);
        int count = features == 0 ? 1 + random.Next(2) : random.Next(3) == 0 ? 1 : 0;
        for (int f = 0; f < features && root is JsonObject top; f++)
        {
            var (field, value) = s_features[random.Next(s_features.Length)];
            top[field] = Raw(raws, Encoding.UTF8.GetBytes(value));
            description.Add($"{field} = {value}");
        }
        for (int m = 0; m < count; m++)
        {
            var slots = new List<(JsonNode Container, string? Key, int Index, string Where)>();
            Collect(root, "$", slots);
            var (container, key, at, where) = slots[random.Next(slots.Count)];
            switch (random.Next(10))
            {
                case < 6:
                    // Replace a value (an object member or an array element) with an evil fragment.
                    var fragment = EvilValues.For(key ?? LastKey(where), random);
                    Set(container, key, at, Raw(raws, fragment));
                    description.Add($"{where} = {Preview(fragment)}");
                    break;
                case 6 when key is not null:
                    container.AsObject().Remove(key);
                    description.Add($"remove {where}");
                    break;
                case 7 or 6:
                    // Add a field any endpoint reads (or an unknown one) to an object on the way.
                    var obj = container as JsonObject ?? root as JsonObject;
                    if (obj is null) break;
                    var name = s_fields[random.Next(s_fields.Length)];
                    var value = EvilValues.For(name, random);
                    obj[name + (obj.ContainsKey(name) ? DupMarker : "")] = Raw(raws, value);
                    description.Add($"add {name} = {Preview(value)}");
                    break;
                case 8 when key is not null:
                    // The same member twice: the second copy has a different (bad) value.
                    var dup = EvilValues.For(key, random);
                    container.AsObject()[key + DupMarker] = Raw(raws, dup);
                    description.Add($"duplicate {where} = {Preview(dup)}");
                    break;
                default:
                    if (container is JsonArray array && random.Next(2) == 0)
                    {
                        array.Add(array.Count > 0 ? array[0]?.DeepClone() : null);
                        description.Add($"grow {where}");
                    }
                    else
                    {
                        var broken = EvilValues.Broken(random);
                        Set(container, key, at, Raw(raws, broken));
                        description.Add($"{where} = broken {Preview(broken)}");
                    }
                    break;
            }
        }
        return Serialize(root, raws);
    }

    private byte[] MutateBytes(byte[] body, List<string> description)
    {
        if (body.Length == 0) return body;
        int at = random.Next(body.Length);
        switch (random.Next(3))
        {
            case 0:
                description.Add($"cut at {at}");
                return body[..at];
            case 1:
                description.Add($"byte {at} = 0xFF");
                var flipped = (byte[])body.Clone();
                flipped[at] = 0xFF;
                return flipped;
            default:
                description.Add($"insert NUL at {at}");
                return [.. body[..at], 0, .. body[at..]];
        }
    }

    private string MutatePath(string path, List<string> description)
    {
        var mutated = random.Next(6) switch
        {
            0 => path.Replace("ensemble", "nope", StringComparison.Ordinal),
            1 => path.Replace("/versions/1/", "/versions/2/", StringComparison.Ordinal),
            2 => path + (path.Contains('?') ? "&" : "?") + "streaming=maybe",
            3 => path.Replace("streaming=true", "streaming=TRUE", StringComparison.Ordinal),
            4 => path + "/",
            _ => path.Replace("ensemble", "%00%ff", StringComparison.Ordinal),
        };
        description.Add($"path {mutated}");
        return mutated;
    }

    private static void Collect(JsonNode node, string where, List<(JsonNode, string?, int, string)> slots)
    {
        if (node is JsonObject obj)
        {
            foreach (var (key, child) in obj.ToList())
            {
                slots.Add((obj, key, -1, $"{where}.{key}"));
                if (child is not null) Collect(child, $"{where}.{key}", slots);
            }
        }
        else if (node is JsonArray array)
        {
            for (int i = 0; i < array.Count; i++)
            {
                slots.Add((array, null, i, $"{where}[{i}]"));
                if (array[i] is { } child) Collect(child, $"{where}[{i}]", slots);
            }
        }
        if (where == "$") slots.Add((node, null, -1, "$"));
    }

    private static void Set(JsonNode container, string? key, int index, JsonNode value)
    {
        if (key is not null) container.AsObject()[key] = value;
        else if (index >= 0) container.AsArray()[index] = value;
        else if (container is JsonObject root) root["unknown_field" + DupMarker] = value; // the root itself: add beside it
    }

    /// <summary>"$.messages[0].role" → "role"; a path ending in an index → the key before it.</summary>
    private static string? LastKey(string where)
    {
        int dot = where.LastIndexOf('.');
        if (dot < 0) return null;
        var last = where[(dot + 1)..];
        int bracket = last.IndexOf('[', StringComparison.Ordinal);
        return bracket >= 0 ? last[..bracket] : last;
    }

    private static JsonNode Raw(List<byte[]> raws, byte[] fragment)
    {
        raws.Add(fragment);
        return JsonValue.Create($"{RawMarker}{raws.Count - 1}~~")!;
    }

    /// <summary>Writes the tree, then splices each raw fragment over its marker string and turns duplicate markers into the key.</summary>
    private static byte[] Serialize(JsonNode root, List<byte[]> raws)
    {
        var text = root.ToJsonString(s_write).Replace(DupMarker, "", StringComparison.Ordinal);
        var output = new List<byte>(text.Length + 64);
        int pos = 0;
        while (true)
        {
            int at = text.IndexOf("\"" + RawMarker, pos, StringComparison.Ordinal);
            if (at < 0) break;
            output.AddRange(Encoding.UTF8.GetBytes(text[pos..at]));
            int end = text.IndexOf("~~\"", at + RawMarker.Length + 1, StringComparison.Ordinal);
            int k = int.Parse(text[(at + 1 + RawMarker.Length)..end], System.Globalization.CultureInfo.InvariantCulture);
            output.AddRange(raws[k]);
            pos = end + 3;
        }
        output.AddRange(Encoding.UTF8.GetBytes(text[pos..]));
        return [.. output];
    }

    private static string Preview(byte[] fragment)
    {
        var text = Encoding.UTF8.GetString(fragment);
        return text.Length <= 60 ? text : text[..60] + $"…({fragment.Length} bytes)";
    }
}
