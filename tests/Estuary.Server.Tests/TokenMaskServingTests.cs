// vLLM's allowed_token_ids and bad_words on /v1/completions and /v1/chat/completions: the output keeps to the allowed tokens
// and leaves out the bad words; bad lists are a 400 naming the field.
using System.Text;
using System.Text.Json;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class TokenMaskServingTests(ServerFixture fx)
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
    public async Task AllowedTokenIdsKeepEveryGeneratedTokenInTheList()
    {
        var tokenizer = fx.Stories.Engine.Tokenizer;
        int[] allowed = [.. tokenizer.Encode("the dog and cat ran to play", addSpecialTokens: false).Distinct()];
        var allowedTexts = allowed.Select(tokenizer.TokenText).ToHashSet();
        const string prompt = "\"prompt\":\"Once upon a time\",\"max_tokens\":12,\"temperature\":0,\"ignore_eos\":true,\"logprobs\":0";
        var free = await PostOkAsync("/v1/completions", $"{{{prompt}}}");
        var masked = await PostOkAsync("/v1/completions", $"{{{prompt},\"allowed_token_ids\":[{string.Join(',', allowed)}]}}");
        var tokens = masked.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToList();
        Assert.Equal(12, tokens.Count);
        Assert.All(tokens, t => Assert.Contains(t, allowedTexts));
        Assert.NotEqual(free.GetProperty("choices")[0].GetProperty("text").GetString(), masked.GetProperty("choices")[0].GetProperty("text").GetString());

        var chat = await PostOkAsync("/v1/chat/completions",
            $"{{\"messages\":[{{\"role\":\"user\",\"content\":\"Tell me a story\"}}],\"max_tokens\":10,\"temperature\":0.8,\"seed\":3,\"ignore_eos\":true,\"logprobs\":true,\"allowed_token_ids\":[{string.Join(',', allowed)}]}}");
        var content = chat.GetProperty("choices")[0].GetProperty("logprobs").GetProperty("content").EnumerateArray().ToList();
        Assert.Equal(10, content.Count);
        Assert.All(content, c => Assert.Contains(c.GetProperty("token").GetString()!, allowedTexts));
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task BadWordsAreLeftOutOfTheOutput()
    {
        const string prompt = "\"prompt\":\"Once upon a time\",\"max_tokens\":60,\"temperature\":0,\"ignore_eos\":true";
        var free = (await PostOkAsync("/v1/completions", $"{{{prompt}}}")).GetProperty("choices")[0].GetProperty("text").GetString()!;
        Assert.Contains("Lily", free);
        var banned = (await PostOkAsync("/v1/completions", $"{{{prompt},\"bad_words\":[\"Lily\"]}}")).GetProperty("choices")[0].GetProperty("text").GetString()!;
        Assert.DoesNotContain("Lily", banned);
        var one = (await PostOkAsync("/v1/completions", $"{{{prompt},\"bad_words\":\"Lily\"}}")).GetProperty("choices")[0].GetProperty("text").GetString()!;
        Assert.Equal(banned, one); // a single string is a one-word list

        const string messages = "\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"}],\"max_tokens\":60,\"temperature\":0,\"ignore_eos\":true";
        static string Content(JsonElement r) => r.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        var chatFree = Content(await PostOkAsync("/v1/chat/completions", $"{{{messages}}}"));
        var word = chatFree.Split(' ', StringSplitOptions.RemoveEmptyEntries).First(w => w.Length > 3 && w.All(char.IsLetter));
        var chatBanned = Content(await PostOkAsync("/v1/chat/completions", $"{{{messages},\"bad_words\":[\"{word}\"]}}"));
        Assert.DoesNotContain(" " + word, " " + chatBanned.Replace("\n", " "));
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Theory]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"allowed_token_ids\":[]}", "allowed_token_ids")]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"allowed_token_ids\":[3,99999]}", "allowed_token_ids")]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"allowed_token_ids\":[-1]}", "allowed_token_ids")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"allowed_token_ids\":\"5\"}", "allowed_token_ids")]
    [InlineData("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"bad_words\":5}", "bad_words")]
    [InlineData("/v1/completions", "{\"prompt\":\"hi\",\"bad_words\":[\"a\",3]}", "bad_words")]
    public async Task BadListsAreA400NamingTheField(string path, string body, string param)
    {
        using var response = await fx.Client.PostAsync(path, Json(body));
        Assert.Equal(400, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(param, doc.RootElement.GetProperty("error").GetProperty("param").GetString());
    }
}
