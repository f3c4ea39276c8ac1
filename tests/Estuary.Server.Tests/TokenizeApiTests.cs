// vLLM's /tokenize, /detokenize and /version: ids exactly as the engine sees them (prompt or chat), text back, errors naming the field.
using System.Net;
using System.Text;
using System.Text.Json;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class TokenizeApiTests(ServerFixture fx)
{
    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> PostOkAsync(HttpClient client, string path, string body)
    {
        using var response = await client.PostAsync(path, Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static int[] Ids(JsonElement e) => [.. e.EnumerateArray().Select(x => x.GetInt32())];

    [Fact]
    public async Task APromptIsTokenizedAsTheEngineEncodesIt()
    {
        var tokenizer = fx.Stories.Engine.Tokenizer;
        var r = await PostOkAsync(fx.Client, "/tokenize", "{\"model\":\"stories260k\",\"prompt\":\"Once upon a time\"}");
        var expected = tokenizer.Encode("Once upon a time");
        Assert.Equal(expected, Ids(r.GetProperty("tokens")));
        Assert.Equal(expected.Length, r.GetProperty("count").GetInt32());
        Assert.Equal(fx.Stories.Engine.MaxModelLen, r.GetProperty("max_model_len").GetInt32());
        Assert.Equal(JsonValueKind.Null, r.GetProperty("token_strs").ValueKind);

        var plain = await PostOkAsync(fx.Client, "/tokenize", "{\"prompt\":\"Once upon a time\",\"add_special_tokens\":false,\"return_token_strs\":true}");
        var ids = Ids(plain.GetProperty("tokens"));
        Assert.Equal(tokenizer.Encode("Once upon a time", addSpecialTokens: false), ids);
        Assert.Equal(expected.Length - 1, ids.Length); // no BOS
        Assert.Equal(ids.Select(tokenizer.IdToPiece), plain.GetProperty("token_strs").EnumerateArray().Select(s => s.GetString()));

        var back = await PostOkAsync(fx.Client, "/detokenize", $"{{\"tokens\":[{string.Join(',', ids)}]}}");
        Assert.Equal("Once upon a time", back.GetProperty("prompt").GetString());
    }

    [Fact]
    public async Task AConversationCountsTheTokensAChatRequestIsCharged()
    {
        const string messages = "[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"你好,讲个故事\"}]";
        var r = await PostOkAsync(fx.BaichuanClient, "/tokenize", $"{{\"messages\":{messages}}}");
        var chat = await PostOkAsync(fx.BaichuanClient, "/v1/chat/completions", $"{{\"messages\":{messages},\"max_tokens\":1}}");
        Assert.Equal(chat.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), r.GetProperty("count").GetInt32());
        var ids = Ids(r.GetProperty("tokens"));
        var plain = fx.Baichuan.Engine.Tokenizer.Encode("你好,讲个故事", addSpecialTokens: false);
        Assert.True(ids.Length > plain.Length + 2, "the chat format adds its role tokens");
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Baichuan);
    }

    [Fact]
    public async Task AConversationWithToolsCountsTheTokensAChatRequestWithThoseToolsIsCharged()
    {
        const string messages = "[{\"role\":\"user\",\"content\":\"What is 2 + 3?\"}]";
        const string tools = "[{\"type\":\"function\",\"function\":{\"name\":\"add_numbers\",\"description\":\"Adds two numbers\"," +
            "\"parameters\":{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}}}]";
        var without = Ids((await PostOkAsync(fx.Client, "/tokenize", $"{{\"messages\":{messages}}}")).GetProperty("tokens"));
        var with = await PostOkAsync(fx.Client, "/tokenize", $"{{\"messages\":{messages},\"tools\":{tools}}}");
        var ids = Ids(with.GetProperty("tokens"));
        Assert.True(ids.Length > without.Length, "the tools are shown in the prompt");
        Assert.Contains("add_numbers", fx.Stories.Engine.Tokenizer.Decode(ids));
        var chat = await PostOkAsync(fx.Client, "/v1/chat/completions",
            $"{{\"messages\":{messages},\"tools\":{tools},\"tool_choice\":\"none\",\"max_tokens\":1}}");
        Assert.Equal(chat.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), with.GetProperty("count").GetInt32());
        // An empty list, as SDKs send when no tools are used, is no tools.
        Assert.Equal(without, Ids((await PostOkAsync(fx.Client, "/tokenize", $"{{\"messages\":{messages},\"tools\":[]}}")).GetProperty("tokens")));
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Theory]
    [InlineData("/tokenize", "{}", 400, "prompt")]
    [InlineData("/tokenize", "{\"prompt\":\"a\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}", 400, "tools")]
    [InlineData("/tokenize", "{\"messages\":[{\"role\":\"user\",\"content\":\"b\"}],\"tools\":[{\"type\":\"web\"}]}", 400, "tools")]
    [InlineData("/tokenize", "{\"prompt\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":\"b\"}]}", 400, "prompt")]
    [InlineData("/tokenize", "{\"prompt\":5}", 400, "prompt")]
    [InlineData("/tokenize", "{\"messages\":[{\"role\":\"robot\",\"content\":\"b\"}]}", 400, "messages[0].role")]
    [InlineData("/tokenize", "{\"messages\":[{\"role\":\"user\",\"content\":\"b\"}],\"add_generation_prompt\":false}", 400, "add_generation_prompt")]
    [InlineData("/tokenize", "{\"prompt\":\"a\",\"model\":\"gpt-4\"}", 404, "model")]
    [InlineData("/detokenize", "{}", 400, "tokens")]
    [InlineData("/detokenize", "{\"tokens\":[1,99999]}", 400, "tokens")]
    [InlineData("/detokenize", "{\"tokens\":[-1]}", 400, "tokens")]
    [InlineData("/detokenize", "{\"tokens\":\"1,2\"}", 400, "tokens")]
    public async Task BadRequestsAreNamed(string path, string body, int status, string param)
    {
        using var response = await fx.Client.PostAsync(path, Json(body));
        Assert.Equal(status, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var error = doc.RootElement.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task VersionIsReported()
    {
        using var response = await fx.Client.GetAsync("/version");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Matches(@"^\d+\.\d+\.\d+", doc.RootElement.GetProperty("version").GetString());
    }
}
