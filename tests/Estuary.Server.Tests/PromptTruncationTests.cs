// vLLM's truncate_prompt_tokens on chat and completions: only the prompt's last k tokens reach the engine, usage counts them,
// echo returns their text, -1 means the context length, and k out of range is a 400 naming the field.
using System.Text;
using System.Text.Json;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class PromptTruncationTests(ServerFixture fx)
{
    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private async Task<JsonElement> PostOkAsync(string path, string body)
    {
        using var response = await fx.Client.PostAsync(path, Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task CompletionsKeepTheLastTokensAndEchoTheirText()
    {
        var tokenizer = fx.Stories.Engine.Tokenizer;
        var ids = tokenizer.Encode("Once upon a time there was a little girl named Lily");
        Assert.True(ids.Length > 6);
        var kept = ids[^4..];
        var cut = await PostOkAsync("/v1/completions",
            $"{{\"prompt\":[{string.Join(',', ids)}],\"truncate_prompt_tokens\":4,\"max_tokens\":8,\"temperature\":0,\"ignore_eos\":true,\"echo\":true,\"logprobs\":1}}");
        var plain = await PostOkAsync("/v1/completions",
            $"{{\"prompt\":[{string.Join(',', kept)}],\"max_tokens\":8,\"temperature\":0,\"ignore_eos\":true}}");
        Assert.Equal(4, cut.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        var echoText = tokenizer.Decode(kept);
        var choice = cut.GetProperty("choices")[0];
        Assert.Equal(echoText + plain.GetProperty("choices")[0].GetProperty("text").GetString(), choice.GetProperty("text").GetString());
        // The echo's scores cover the kept tokens only: the first has none, then the 8 generated ones follow.
        var tokenLogprobs = choice.GetProperty("logprobs").GetProperty("token_logprobs");
        Assert.Equal(4 + 8, tokenLogprobs.GetArrayLength());
        Assert.Equal(JsonValueKind.Null, tokenLogprobs[0].ValueKind);
        Assert.Equal(JsonValueKind.Number, tokenLogprobs[1].ValueKind);

        // A prompt no longer than k, and -1 (the context length), leave the prompt whole.
        var text = "{\"prompt\":\"Once upon a time\",\"max_tokens\":2,\"truncate_prompt_tokens\":";
        int whole = tokenizer.Encode("Once upon a time").Length;
        Assert.Equal(whole, (await PostOkAsync("/v1/completions", text + "200}")).GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(whole, (await PostOkAsync("/v1/completions", text + "-1}")).GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task ChatKeepsTheLastTokensOfTheRenderedPrompt()
    {
        const string messages = "\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a long story about a dog and a cat\"}]";
        var rendered = (await PostOkAsync("/tokenize", $"{{{messages}}}")).GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.True(rendered.Length > 5);
        var cut = await PostOkAsync("/v1/chat/completions", $"{{{messages},\"truncate_prompt_tokens\":5,\"max_tokens\":6,\"temperature\":0,\"ignore_eos\":true}}");
        var plain = await PostOkAsync("/v1/completions",
            $"{{\"prompt\":[{string.Join(',', rendered[^5..])}],\"max_tokens\":6,\"temperature\":0,\"ignore_eos\":true}}");
        Assert.Equal(5, cut.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(plain.GetProperty("choices")[0].GetProperty("text").GetString(),
            cut.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task ResponsesKeepTheLastTokensToo()
    {
        const string input = "\"input\":\"Tell me a long story about a dog and a cat\",\"max_output_tokens\":4";
        var whole = await PostOkAsync("/v1/responses", $"{{{input}}}");
        var cut = await PostOkAsync("/v1/responses", $"{{{input},\"truncate_prompt_tokens\":5}}");
        Assert.True(whole.GetProperty("usage").GetProperty("input_tokens").GetInt32() > 5);
        Assert.Equal(5, cut.GetProperty("usage").GetProperty("input_tokens").GetInt32());
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Theory]
    [InlineData("/v1/responses", "{\"input\":\"hi\",\"truncate_prompt_tokens\":0}")]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"truncate_prompt_tokens\":0}")]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"truncate_prompt_tokens\":-2}")]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"truncate_prompt_tokens\":100000}")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"truncate_prompt_tokens\":0}")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"truncate_prompt_tokens\":100000}")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"truncate_prompt_tokens\":\"5\"}")]
    public async Task OutOfRangeValuesAreA400NamingTheField(string path, string body)
    {
        using var response = await fx.Client.PostAsync(path, Json(body));
        Assert.Equal(400, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("truncate_prompt_tokens", doc.RootElement.GetProperty("error").GetProperty("param").GetString());
    }
}
