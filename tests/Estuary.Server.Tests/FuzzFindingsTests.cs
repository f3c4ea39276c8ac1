// Regression tests for what the server fuzzer (ServerFuzzTests) found: each input below was a 500, or a 400 whose message was
// .NET's rather than one naming the field. Bytes written \xFF here are sent as that raw byte (never valid UTF-8).
using System.Net;
using System.Text.Json;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class FuzzFindingsTests(ServerFixture fx)
{
    private const string Chat = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":5";
    private const string Tool = "{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"integer\"}}}}}";

    [Fact]
    public async Task Many_user_messages_with_tools_are_answered_promptly()
    {
        // The built-in formats get tools as text and consecutive user turns joined; the join copied the text so far for each
        // message, so 60,000 one-letter messages (a 2 MB body) took tens of seconds before the prompt was found too long.
        var messages = string.Join(",", Enumerable.Repeat("{\"role\":\"user\",\"content\":\"a\"}", 60_000));
        var body = "{\"messages\":[" + messages + "],\"tools\":[" + Tool + "],\"tool_choice\":\"required\"}";
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var response = await fx.Client.PostAsync("/v1/chat/completions", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Contains("the context length is 512", text);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed.TotalSeconds:0.0} s");
    }

    [Theory]
    // A JSON value that is not an object: the message named the DTO type (Estuary.Server.Apis.Triton.TritonGenerateRequest).
    [InlineData("/v2/models/ensemble/generate", "1", "the request body must be a JSON object", null)]
    [InlineData("/v1/chat/completions", "[1]", "the request body must be a JSON object", null)]
    // A string that is not Unicode inside a field kept as raw JSON was a 500 ("Cannot transcode invalid UTF-8 …").
    [InlineData("/v1/chat/completions", Chat + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"g\xFF\"}}]}",
        "'tools[0].function.name' is not valid text", "tools[0].function.name")]
    [InlineData("/v1/chat/completions", Chat + ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"schema\":{\"type\":\"object\",\"required\":[\"\\ud800\"]}}}}",
        "'response_format.json_schema.schema.required[0]' is not valid text", "response_format.json_schema.schema.required[0]")]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"logit_bias\":{\"\\udc00\":1}}", "'logit_bias' has a member name that is not valid text", "logit_bias")]
    // … and a member name of the body itself was named '$'.
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"\xFF\":1}", "the request body has a member name that is not valid text", null)]
    // tools[].type of another kind than a string was a 500 (JsonElement.ValueEquals on a number).
    [InlineData("/v1/chat/completions", Chat + ",\"tools\":[{\"type\":-2147483649,\"function\":{\"name\":\"f\"}}]}", "'tools[0].type' must be 'function'", "tools")]
    // A member given twice inside tools reached JsonNode: "An item with the same key has already been added. Key: description".
    [InlineData("/v1/chat/completions", Chat + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"description\":\"a\",\"description\":\"b\"}}]}",
        "'tools[0].function.description' is given twice", "tools[0].function.description")]
    [InlineData("/v1/chat/completions", Chat + ",\"tools\":[" + Tool + "],\"max_tokens\":6}", "'max_tokens' is given twice", "max_tokens")]
    // Triton's json_schema without its guide: "The input does not contain any JSON tokens … when isFinalBlock is true".
    [InlineData("/v2/models/ensemble/generate", "{\"text_input\":\"hi\",\"guided_decoding_guide_type\":\"json_schema\"}",
        "'guided_decoding_guide' is required with guided_decoding_guide_type 'json_schema'", null)]
    // System.Text.Json's advice to the programmer is not the client's business.
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"stop\":[\"a\",],\"max_tokens\":2}", "'stop' has the wrong type or is malformed: The JSON array contains a trailing comma at the end.", "stop")]
    // A schema given as a string that is not JSON, or Triton's guide that is not: the message ended "when isFinalBlock is true.
    // LineNumber: 3 | BytePositionInLine: 0."
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"guided_json\":\"\\n\\n\\n\"}",
        "'guided_json' is not valid JSON: The input does not contain any JSON tokens. Expected the input to start with a valid JSON token.", "guided_json")]
    [InlineData("/v2/models/ensemble/generate", "{\"text_input\":\"hi\",\"guided_decoding_guide_type\":\"json_schema\",\"guided_decoding_guide\":\"{\"}",
        "guided_decoding_guide: ", null)]
    public async Task Fuzzed_inputs_are_400s_naming_the_field(string path, string body, string message, string? param)
    {
        var content = new ByteArrayContent([.. body.Select(c => c == '\xFF' ? (byte)0xFF : checked((byte)c))]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var response = await fx.Client.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        using var doc = JsonDocument.Parse(text);
        var error = doc.RootElement.GetProperty("error");
        if (path.StartsWith("/v2", StringComparison.Ordinal))
        {
            Assert.StartsWith(message, error.GetString());
            Assert.DoesNotContain("LineNumber", error.GetString());
            return;
        }
        Assert.DoesNotContain("LineNumber", error.GetProperty("message").GetString());
        Assert.StartsWith(message, error.GetProperty("message").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }
}
