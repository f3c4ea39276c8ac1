// Hundreds of bad requests (every documented bad case, truncated bodies, random bytes, oversized bodies, wrong methods) and
// mid-stream hang-ups: the server never answers 5xx, still answers a good request identically, and every KV block is free again.
using System.Net;
using System.Text;
using Estuary.Server;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class RobustnessTests(ServerFixture fx)
{
    private static readonly (string Path, string Body)[] s_valid =
    [
        ("/inference", "{\"messages\":[{\"role\":\"user\",\"content\":\"你是谁?\"}]}"),
        ("/v1/chat/completions", "{\"model\":\"stories260k\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":5,\"stop\":[\"x\"]}"),
        ("/v1/completions", "{\"prompt\":[\"a\",\"b\"],\"max_tokens\":5,\"logprobs\":1,\"stream\":true}"),
        ("/v2/models/ensemble/generate", "{\"text_input\":\"你是谁?\",\"max_tokens\":5,\"bad_words\":\"\",\"stop_words\":\"\",\"end_id\":2}"),
        ("/v1/completions", "{\"prompt\":[1,403,407],\"echo\":true,\"logprobs\":1,\"max_tokens\":0,\"prompt_logprobs\":2,\"logit_bias\":{\"5\":1}}"),
        ("/tokenize", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"return_token_strs\":true}"),
        ("/detokenize", "{\"tokens\":[1,403,407]}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":5,\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"p\",\"schema\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\",\"minimum\":3}},\"required\":[\"a\"]}}}}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":5,\"guided_regex\":\"[a-z]+(, [a-z]+)*\\\\.\"}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":60,\"tool_choice\":\"required\",\"parallel_tool_calls\":false,\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"boolean\"}},\"required\":[\"x\"]}}}]}"),
        ("/v2/models/ensemble/generate", "{\"text_input\":\"hi\",\"max_tokens\":5,\"guided_decoding_guide_type\":\"json_schema\",\"guided_decoding_guide\":\"{\\\"enum\\\":[\\\"a\\\",1]}\"}"),
    ];

    private static readonly (string Path, string Body)[] s_bad =
    [
        ("/inference", "{\"messages\":[{\"role\":\"wizard\",\"content\":\"hi\"}]}"),
        ("/inference", "{\"messages\":[{\"role\":\"assistant\",\"content\":\"hi\"}]}"),
        ("/inference", "{\"messages\":[{\"role\":\"user\"}]}"),
        ("/inference", "{\"messages\":[null]}"),
        ("/inference", "[]"),
        ("/inference", "null"),
        ("/inference", "\"text\""),
        ("/inference", ""),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":-0.5}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":1e39}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"top_p\":0}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"top_p\":-1}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":-3}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_completion_tokens\":999999}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":1.5}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":1000}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":\"yes\"}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"top_logprobs\":3}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"logprobs\":true,\"top_logprobs\":99}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"presence_penalty\":5}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"frequency_penalty\":-5}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"repetition_penalty\":0}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"min_p\":2}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"top_k\":-7}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"min_tokens\":50,\"max_tokens\":5}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop\":[\"\"]}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop\":[1,2]}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stop_token_ids\":[\"a\"]}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{}}]}]}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":{\"x\":1}}]}"),
        ("/v1/chat/completions", "{\"messages\":{}}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"seed\":1e30}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"model\":\"other\"}"),
        ("/v1/completions", "{\"prompt\":[[1,2],[\"a\"]]}"),
        ("/v1/completions", "{\"prompt\":[-1]}"),
        ("/v1/completions", "{\"prompt\":[1.5]}"),
        ("/v1/completions", "{\"prompt\":true}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":0}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"logprobs\":-1}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"n\":40,\"max_tokens\":2,\"echo\":1}"),
        ("/v1/completions", "{\"prompt\":[\"a\",\"b\",\"c\"],\"n\":30}"),
        ("/v2/models/ensemble/generate", "{\"text_input\":\"hi\",\"beam_width\":2}"),
        ("/v2/models/ensemble/generate", "{\"text_input\":\"hi\",\"end_id\":-4}"),
        ("/v2/models/ensemble/generate", "{\"text_input\":\"hi\",\"random_seed\":-1}"),
        ("/v2/models/ensemble/generate", "{\"text_input\":\"hi\",\"bad_words\":[1]}"),
        ("/v2/models/ensemble/generate", "{\"text_input\":5}"),
        ("/v2/models/nope/generate", "{\"text_input\":\"hi\"}"),
        ("/v2/models/ensemble/generate_stream", "{\"text_input\":\"hi\",\"temperature\":-1}"),
        ("/v2/models/ensemble/versions/0/generate", "{\"text_input\":\"hi\"}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"logit_bias\":{\"1\":1e39}}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"logit_bias\":{\"-3\":1}}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"logit_bias\":{\"99999999999\":1}}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"prompt_logprobs\":-1}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"suffix\":\"x\"}"),
        ("/tokenize", "{\"prompt\":[1,2]}"),
        ("/tokenize", "{\"messages\":[]}"),
        ("/tokenize", "{\"prompt\":\"hi\",\"add_special_tokens\":\"yes\"}"),
        ("/detokenize", "{\"tokens\":[1e10]}"),
        ("/detokenize", "{\"tokens\":[null]}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"guided_regex\":\"a{99999999}\"}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"guided_regex\":\"(\"}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"guided_regex\":5}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"guided_choice\":[\"\"]}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"guided_choice\":[\"\\ud800\"]}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"guided_json\":{\"enum\":[\"\\udc00\"]}}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"guided_json\":{\"$ref\":\"#/$defs/a\",\"$defs\":{\"a\":{\"$ref\":\"#/$defs/a\"}}}}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"guided_json\":{\"type\":\"string\",\"maxLength\":1e12}}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"guided_json\":false}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"guided_json\":[1]}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"response_format\":\"json\"}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":\"{\"}}}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"structured_outputs\":{\"choice\":[1]}}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"structured_outputs\":[]}"),
        ("/v2/models/ensemble/generate", "{\"text_input\":\"hi\",\"guided_decoding_guide_type\":\"json_schema\",\"guided_decoding_guide\":\"{\"}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":{},\"tool_choice\":\"required\"}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[null],\"tool_choice\":\"required\"}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":5}}],\"tool_choice\":\"required\"}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}},{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":\"required\"}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":5}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}],\"tool_choice\":{\"type\":\"function\"}}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"a\",\"function\":{}}]}]}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[null]}]}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"a\",\"type\":\"x\",\"function\":{\"name\":\"f\"}}]}]}"),
        ("/inference", "{\"messages\":[{\"role\":\"tool\",\"content\":\"4\"}]}"),
        ("/v2/models/ensemble/generate", "{\"text_input\":\"hi\",\"guided_decoding_guide_type\":\"regex\",\"guided_decoding_guide\":\"(?<=a)b\"}"),
    ];

    [Fact]
    public async Task HundredsOfBadRequestsNeverBreakTheServer()
    {
        var client = fx.Client;
        using var reference = await client.PostAsync("/v1/completions", Json("{\"prompt\":\"Once upon a time\",\"max_tokens\":12,\"temperature\":0}"));
        var expected = await reference.Content.ReadAsStringAsync();

        foreach (var (path, body) in s_valid)
        {
            // The bodies cut up below are good requests when whole.
            using var whole = await client.PostAsync(path, Json(body));
            Assert.True(whole.StatusCode == HttpStatusCode.OK, $"{path} {body}: {(int)whole.StatusCode} {await whole.Content.ReadAsStringAsync()}");
        }
        var requests = new List<(string Path, HttpContent Content)>();
        foreach (var (path, body) in s_bad) requests.Add((path, Json(body)));
        foreach (var (path, body) in s_valid)
            for (int cut = 1; cut < body.Length; cut += Math.Max(1, body.Length / 12)) requests.Add((path, Json(body[..cut]))); // truncated
        var random = new Random(20251125);
        for (int i = 0; i < 120; i++)
        {
            var bytes = new byte[random.Next(0, 300)];
            random.NextBytes(bytes);
            requests.Add((s_valid[i % s_valid.Length].Path, new ByteArrayContent(bytes)));
        }
        requests.Add(("/v1/chat/completions", Json("{\"messages\":[" + string.Concat(Enumerable.Repeat("[", 5000)) + "]}"))); // deep nesting
        // Random regular expressions and schemas: each compiles (a short answer) or is refused (400), never a 5xx.
        var grammars = new List<HttpContent>();
        const string regexAlphabet = "ab()[]{}|*+?.^$\\-,0123456789dws:=!<>P";
        for (int i = 0; i < 60; i++)
        {
            var pattern = new string([.. Enumerable.Range(0, random.Next(1, 16)).Select(_ => regexAlphabet[random.Next(regexAlphabet.Length)])]);
            grammars.Add(Json(System.Text.Json.JsonSerializer.Serialize(new { prompt = "hi", max_tokens = 3, guided_regex = pattern })));
        }
        string[] schemaParts = ["{", "}", "\"type\":", "\"object\"", "\"string\"", "\"integer\"", "\"properties\":", "\"a\":", "[", "]", ",", "\"minimum\":", "5", "-1e400",
            "\"enum\":", "\"$ref\":", "\"#\"", "\"items\":", "\"anyOf\":", "true", "null", "\"pattern\":", "\"(\""];
        for (int i = 0; i < 60; i++)
        {
            var schema = string.Concat(Enumerable.Range(0, random.Next(1, 14)).Select(_ => schemaParts[random.Next(schemaParts.Length)]));
            grammars.Add(Json("{\"prompt\":\"hi\",\"max_tokens\":3,\"guided_json\":" + System.Text.Json.JsonSerializer.Serialize(schema) + "}"));
        }
        Assert.True(requests.Count > 200, $"only {requests.Count} requests");

        var statuses = new List<HttpStatusCode>();
        var failures = new List<string>();
        foreach (var chunk in requests.Chunk(16))
        {
            var responses = await Task.WhenAll(chunk.Select(r => client.PostAsync(r.Path, r.Content)));
            foreach (var response in responses)
            {
                statuses.Add(response.StatusCode);
                if ((int)response.StatusCode is < 400 or >= 500)
                    failures.Add($"{response.RequestMessage!.RequestUri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                response.Dispose();
            }
        }
        int compiled = 0;
        foreach (var chunk in grammars.Chunk(16))
        {
            foreach (var response in await Task.WhenAll(chunk.Select(c => client.PostAsync("/v1/completions", c))))
            {
                if (response.StatusCode == HttpStatusCode.OK) compiled++;
                else if (response.StatusCode != HttpStatusCode.BadRequest)
                    failures.Add($"a random grammar answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                response.Dispose();
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Contains(HttpStatusCode.NotFound, statuses);
        Assert.InRange(compiled, 1, grammars.Count - 1); // the random inputs reach both outcomes

        // Wrong methods and unknown paths are 404/405, never 5xx.
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await client.GetAsync("/v1/chat/completions")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/nothing")).StatusCode);

        await HangUpMidStreamAsync(client);

        using var after = await client.PostAsync("/v1/completions", Json("{\"prompt\":\"Once upon a time\",\"max_tokens\":12,\"temperature\":0}"));
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(Choices(expected), Choices(await after.Content.ReadAsStringAsync()));
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Theory]
    [InlineData("/v1/completions", "{\"prompt\":\"Once \xFF upon\",\"max_tokens\":5}", "prompt")]
    [InlineData("/v1/completions", "{\"prompt\":\"Once \\ud800 upon\",\"max_tokens\":5}", "prompt")]
    [InlineData("/v1/completions", "{\"prompt\":[\"ok\",\"\\udfff\"],\"max_tokens\":5}", "prompt[1]")]
    [InlineData("/v1/completions", "{\"prompt\":\"Once\",\"max_tokens\":5,\"stop\":[\"\\ud800\"]}", "stop[0]")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi \\ud800\"}]}", "messages[0].content")]
    [InlineData("/inference", "{\"messages\":[{\"role\":\"user\",\"content\":\"\xFE\"}]}", "messages[0].content")]
    [InlineData("/v2/models/ensemble/generate", "{\"text_input\":\"\\ud800 a\",\"max_tokens\":5}", "text_input")]
    [InlineData("/v2/models/ensemble/generate", "{\"text_input\":\"a\",\"max_tokens\":5,\"stop_words\":\"\xFF\"}", "stop_words")]
    public async Task StringsThatAreNotUnicodeAre400NamingTheField(string path, string body, string field)
    {
        // \xFF / \xFE stand for raw bytes that are never valid UTF-8; \\ud800 is a JSON escape of a lone surrogate (was a 500).
        var bytes = body.Select(c => (byte)c).ToArray(); // each char is one byte here (all ASCII but the two invalid ones)
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await fx.Client.PostAsync(path, content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"'{field}' is not valid text: it holds invalid UTF-8 or an unpaired UTF-16 surrogate escape",
            await response.Content.ReadAsStringAsync());
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task RoutingFailuresCarryAnErrorBodyInThePathsShape()
    {
        using (var missing = await fx.Client.GetAsync("/v1/nothing-here"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            using var doc = System.Text.Json.JsonDocument.Parse(await missing.Content.ReadAsStringAsync());
            Assert.Equal("no API at GET /v1/nothing-here", doc.RootElement.GetProperty("error").GetProperty("message").GetString());
        }
        using (var triton = await fx.Client.GetAsync("/v2/nothing-here"))
        {
            Assert.Equal(HttpStatusCode.NotFound, triton.StatusCode);
            Assert.Equal("{\"error\":\"no API at GET /v2/nothing-here\"}", await triton.Content.ReadAsStringAsync());
        }
        using var wrongMethod = await fx.Client.GetAsync("/v1/completions");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Equal(["POST"], wrongMethod.Content.Headers.Allow);
        Assert.Contains("GET is not allowed on /v1/completions (allowed: POST)", await wrongMethod.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task OversizedBodiesAre413()
    {
        var client = await fx.StartAsync(fx.Stories, new ServerOptions { ServedModelName = "stories260k", MaxRequestBodyBytes = 4096 });
        var big = "{\"prompt\":\"" + new string('a', 20_000) + "\"}";
        using var declared = await client.PostAsync("/v1/completions", Json(big));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        // Without a Content-Length (chunked upload), the limit trips while reading.
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/models/ensemble/generate") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using var streamed = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        using var ok = await client.PostAsync("/v1/completions", Json("{\"prompt\":\"hi\",\"max_tokens\":2}"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    private static async Task HangUpMidStreamAsync(HttpClient client)
    {
        var streams = new List<HttpResponseMessage>();
        foreach (var (path, body) in new[]
        {
            ("/inference?streaming=true", "{\"messages\":[{\"role\":\"user\",\"content\":\"Tell a long story\"}]}"),
            ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":400,\"ignore_eos\":true,\"stream\":true,\"n\":3}"),
            ("/v1/completions", "{\"prompt\":\"a\",\"max_tokens\":400,\"ignore_eos\":true,\"stream\":true}"),
            ("/v2/models/ensemble/generate_stream", "{\"text_input\":\"hi\",\"max_tokens\":400}"),
            ("/v1/completions", "{\"prompt\":\"b\",\"max_tokens\":400,\"ignore_eos\":true}"),
        })
        {
            var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(body) };
            streams.Add(await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead));
        }
        foreach (var s in streams) s.Dispose();
    }

    private static string Choices(string json)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        return doc.RootElement.GetProperty("choices").GetRawText();
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}

[Collection(ServerCollection.Name)]
public sealed class PaddingVocabularyTests(ServerFixture fx) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("estuary-padding-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Embedding_rows_past_the_tokenizer_are_never_sampled_nor_shown()
    {
        // The model's favourite next token is a padding row (an id the tokenizer has no token for, as a Qwen checkpoint's
        // 151936 rows against its 151669 tokens allow). Sampling it made the detokenizer throw inside the engine step, which
        // failed every request in flight (a 500).
        const string template = "{% for m in messages %}{{ m['content'] }}{% endfor %}";
        int padding = 0;
        var dir = Estuary.Testing.ScriptedTestModel.Write(Path.Combine(_dir, "model"), template, [], tok =>
        {
            padding = tok.VocabSize + 3;
            return [[.. tok.Encode("Go", false)[^1..], padding]];
        }, paddingRows: 8);
        using var engine = new Estuary.Engine.AsyncLlmEngine(Estuary.Engine.LlmEngine.Load(dir, new Estuary.Engine.EngineConfig { NumThreads = 1, NumKvBlocks = 64 }));
        Assert.True(engine.Engine.ModelConfig.VocabSize > engine.Engine.Tokenizer.VocabSize);
        var client = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "padded" });
        foreach (var body in new[]
        {
            "{\"messages\":[{\"role\":\"user\",\"content\":\"Go\"}],\"max_tokens\":4,\"temperature\":0,\"logprobs\":true,\"top_logprobs\":20}",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"Go\"}],\"max_tokens\":4,\"temperature\":1.5,\"seed\":1,\"stream\":true}",
        })
        {
            using var response = await client.PostAsync("/v1/chat/completions", new System.Net.Http.StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, text);
            Assert.DoesNotContain("error", text);
        }
        using var prompt = await client.PostAsync("/v1/completions", new System.Net.Http.StringContent(
            "{\"prompt\":\"Go\",\"max_tokens\":3,\"temperature\":0,\"prompt_logprobs\":20,\"logprobs\":20,\"echo\":true}", System.Text.Encoding.UTF8, "application/json"));
        Assert.True(prompt.StatusCode == System.Net.HttpStatusCode.OK, await prompt.Content.ReadAsStringAsync());
        await ServerFixture.AssertAllBlocksFreeAsync(engine);
    }
}
