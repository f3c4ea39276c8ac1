// Sends one of every Estuary HTTP request (plain, streaming, errors) to a running server and prints each status and body,
// ids and timestamps blanked, so two servers' answers can be compared as text. Used by check-publish.sh; needs only the SDK:
//   dotnet run scripts/http-requests.cs -- http://127.0.0.1:8000
using System.Text;
using System.Text.RegularExpressions;

if (args.Length != 1 || !Uri.TryCreate(args[0], UriKind.Absolute, out var baseUri))
{
    Console.Error.WriteLine("usage: http-requests.cs BASE_URL (e.g. http://127.0.0.1:8000)");
    return 2;
}
using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(60) };

// The server listens once its model is loaded; wait for /health up to 30 s.
for (int attempt = 0; ; attempt++)
{
    try
    {
        if ((await http.GetAsync("/health")).IsSuccessStatusCode) break;
    }
    catch (HttpRequestException) when (attempt < 150)
    {
    }
    if (attempt >= 150)
    {
        Console.Error.WriteLine($"{baseUri}: /health did not answer 200 within 30 s");
        return 1;
    }
    await Task.Delay(200);
}

const string chat = """{"model":"stories260k","messages":[{"role":"user","content":"Hi"}]""";
var requests = new (string Path, string? Body)[]
{
    ("/inference", """{"messages":[{"role":"user","content":"Hello"}],"max_tokens":20}"""),
    ("/inference?streaming=true", """{"messages":[{"role":"user","content":"Hello"}],"max_tokens":8}"""),
    ("/v1/models", null),
    ("/v1/chat/completions", chat + ""","max_tokens":10,"logprobs":true,"top_logprobs":2}"""),
    ("/v1/chat/completions", chat + ""","max_tokens":4,"stream":true,"stream_options":{"include_usage":true}}"""),
    ("/v1/completions", """{"model":"stories260k","prompt":"Once","max_tokens":5,"seed":1,"temperature":0.8}"""),
    ("/v2/models/stories260k/generate", """{"text_input":"Once","max_tokens":5}"""),
    ("/v2/models/stories260k/generate_stream", """{"text_input":"Once","max_tokens":3}"""),
    ("/v1/chat/completions", chat + ""","max_tokens":3,"logit_bias":{"300":100}}"""),
    ("/tokenize", """{"prompt":"Once upon a time","return_token_strs":true}"""),
    ("/tokenize", chat + "}"),
    ("/detokenize", """{"tokens":[1,403,407,261]}"""),
    ("/version", null),
    ("/v1/chat/completions", chat + ""","max_tokens":60,"seed":2,"response_format":{"type":"json_schema","json_schema":{"name":"p","schema":{"type":"object","properties":{"n":{"type":"integer","maximum":99},"s":{"type":"string","pattern":"[a-z]{1,5}"}},"required":["n","s"]}}}}"""),
    ("/v1/completions", """{"model":"stories260k","prompt":"Once","max_tokens":20,"seed":3,"temperature":1,"guided_choice":[" yes"," no"]}"""),
    ("/v2/models/stories260k/generate", """{"text_input":"Once","max_tokens":20,"guided_decoding_guide_type":"regex","guided_decoding_guide":" [0-9]{2}"}"""),
    ("/v1/completions", """{"model":"stories260k","prompt":"Once","guided_json":{"not":{}}}"""),
    ("/v1/completions", """{"model":"stories260k","prompt":"Once","max_tokens":20,"seed":5,"temperature":1,"guided_grammar":"root ::= \" \" word (\", \" word){0,2} \".\"\nword ::= [a-z]{2,6}"}"""),
    ("/v1/chat/completions", chat + ""","max_tokens":60,"seed":4,"tool_choice":{"type":"function","function":{"name":"add"}},"tools":[{"type":"function","function":{"name":"add","parameters":{"type":"object","properties":{"a":{"type":"integer","maximum":9},"b":{"type":"integer","minimum":0,"maximum":9}},"required":["a","b"]}}}]}"""),
    ("/v1/chat/completions", chat + ""","max_tokens":20,"tools":[{"type":"function","function":{"name":"add","parameters":{"type":"object","properties":{"a":{"type":"integer","maximum":9}},"required":["a"]}}}]}"""),
    ("/v1/chat/completions", chat + ""","max_tokens":60,"seed":6,"logit_bias":{"94":100},"parallel_tool_calls":false,"tool_choice":"auto","tools":[{"type":"function","function":{"name":"add","parameters":{"type":"object","properties":{"a":{"type":"integer","maximum":9}},"required":["a"]}}}]}"""),
    ("/v1/chat/completions", """{"model":"stories260k","messages":5}"""),
    ("/v1/chat/completions", chat + ""","max_tokens":-1}"""),
    ("/inference", "{not json"),
    ("/health", null),
    ("/metrics", null),
};
foreach (var (path, body) in requests)
{
    using var response = body is null
        ? await http.GetAsync(path)
        : await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
    string text = await response.Content.ReadAsStringAsync();
    if (path == "/metrics")
    {
        // Values move with every request; the families exported must not.
        text = string.Join('\n', text.Split('\n').Where(line => line.StartsWith("# TYPE estuary_", StringComparison.Ordinal)));
    }
    text = Regex.Replace(text, "(chatcmpl|cmpl|call)[-_][0-9a-f]+", "ID");
    text = Regex.Replace(text, "\"created\":[0-9]+", "\"created\":T");
    Console.WriteLine($"{(body is null ? "GET" : "POST")} {path} → {(int)response.StatusCode}\n{text}\n");
}
return 0;
