// vLLM's return_tokens_as_token_ids: every logprobs "token" (chosen, alternatives, echoed prompt; chat and completions, whole
// and streamed) reads "token_id:N", naming the same token the plain request names by its text.
using System.Text;
using System.Text.Json;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class TokenIdLogprobsTests(ServerFixture fx)
{
    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private async Task<JsonElement> PostOkAsync(string path, string body)
    {
        using var response = await fx.Client.PostAsync(path, Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private int Id(string name)
    {
        Assert.StartsWith("token_id:", name, StringComparison.Ordinal);
        int id = int.Parse(name["token_id:".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(id, 0, fx.Stories.Engine.ModelConfig.VocabSize - 1);
        return id;
    }

    [Fact]
    public async Task CompletionsNameEchoedAndGeneratedTokensById()
    {
        var tokenizer = fx.Stories.Engine.Tokenizer;
        var ids = tokenizer.Encode("Once upon a time, there was");
        var body = $"{{\"prompt\":[{string.Join(',', ids)}],\"max_tokens\":6,\"temperature\":0,\"ignore_eos\":true,\"logprobs\":3,\"echo\":true";
        var plain = (await PostOkAsync("/v1/completions", body + "}")).GetProperty("choices")[0].GetProperty("logprobs");
        var named = (await PostOkAsync("/v1/completions", body + ",\"return_tokens_as_token_ids\":true}")).GetProperty("choices")[0].GetProperty("logprobs");
        var tokens = named.GetProperty("tokens").EnumerateArray().Select(t => Id(t.GetString()!)).ToList();
        var plainTokens = plain.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Equal(ids.Length + 6, tokens.Count);
        Assert.Equal(ids, tokens.Take(ids.Length)); // the echoed prompt is exactly its ids
        for (int k = 0; k < tokens.Count; k++) Assert.Equal(plainTokens[k], tokenizer.TokenText(tokens[k]));
        var top = named.GetProperty("top_logprobs");
        var plainTop = plain.GetProperty("top_logprobs");
        for (int k = 1; k < tokens.Count; k++)
        {
            var byId = top[k].EnumerateObject().Select(e => (tokenizer.TokenText(Id(e.Name)), e.Value.GetSingle())).Order().ToList();
            Assert.Equal(3, byId.Count);
            Assert.Equal(plainTop[k].EnumerateObject().Select(e => (e.Name, e.Value.GetSingle())).Order(), byId);
        }
        // Only the names change: the log-probabilities are those of the plain request.
        Assert.Equal(named.GetProperty("token_logprobs").EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? 0 : e.GetSingle()),
            plain.GetProperty("token_logprobs").EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? 0 : e.GetSingle()));

        var events = await Sse.ReadAsync(fx.Client, "/v1/completions",
            $"{{\"prompt\":[{string.Join(',', ids)}],\"max_tokens\":6,\"temperature\":0,\"ignore_eos\":true,\"logprobs\":1,\"stream\":true,\"return_tokens_as_token_ids\":true}}");
        var streamed = new List<int>();
        foreach (var e in events.SkipLast(1))
        {
            using var doc = JsonDocument.Parse(e);
            foreach (var c in doc.RootElement.GetProperty("choices").EnumerateArray())
                if (c.GetProperty("logprobs").ValueKind == JsonValueKind.Object)
                    streamed.AddRange(c.GetProperty("logprobs").GetProperty("tokens").EnumerateArray().Select(t => Id(t.GetString()!)));
        }
        Assert.Equal(tokens.Skip(ids.Length), streamed);
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task ChatNamesTheChosenTokenAndItsAlternativesById()
    {
        var tokenizer = fx.Stories.Engine.Tokenizer;
        const string body = "{\"messages\":[{\"role\":\"user\",\"content\":\"Tell me a story\"}],\"max_tokens\":6,\"temperature\":0,\"ignore_eos\":true,\"logprobs\":true,\"top_logprobs\":2";
        var plain = (await PostOkAsync("/v1/chat/completions", body + "}")).GetProperty("choices")[0].GetProperty("logprobs").GetProperty("content");
        var named = (await PostOkAsync("/v1/chat/completions", body + ",\"return_tokens_as_token_ids\":true}")).GetProperty("choices")[0].GetProperty("logprobs").GetProperty("content");
        Assert.Equal(6, named.GetArrayLength());
        for (int k = 0; k < 6; k++)
        {
            var name = named[k].GetProperty("token").GetString()!;
            Assert.Equal(plain[k].GetProperty("token").GetString(), tokenizer.TokenText(Id(name)));
            Assert.Equal(Encoding.UTF8.GetBytes(name).Select(b => (int)b), named[k].GetProperty("bytes").EnumerateArray().Select(b => b.GetInt32()));
            var alternatives = named[k].GetProperty("top_logprobs").EnumerateArray().Select(t => tokenizer.TokenText(Id(t.GetProperty("token").GetString()!))).ToList();
            Assert.Equal(plain[k].GetProperty("top_logprobs").EnumerateArray().Select(t => t.GetProperty("token").GetString()), alternatives);
        }
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }
}
