// POST /inference end to end: the README's curl request byte for byte, streaming equal to non-streaming, chat format on Baichuan2.
using System.Net;
using System.Text;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class InferenceApiTests(ServerFixture fx)
{
    // Exactly what `curl -X POST -H "Content-Type: application/json" -d '{"messages": …}'` sends.
    private const string CurlBody = "{\"messages\": [{\"role\": \"user\", \"content\": \"你是谁?\"}]}";

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Fact]
    public async Task TheReadmeCurlRequestReturnsPlainText()
    {
        foreach (var client in new[] { fx.Client, fx.BaichuanClient })
        {
            using var response = await client.PostAsync("/inference", Json(CurlBody));
            var text = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
            Assert.False(string.IsNullOrWhiteSpace(text));
        }
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Fact]
    public async Task StreamingDeltasConcatenateToTheNonStreamedReply()
    {
        // Both models' defaults are deterministic here: stories260k is greedy; the Baichuan fixture samples, so it is checked
        // for a non-empty stream only.
        using var whole = await fx.Client.PostAsync("/inference", Json(CurlBody));
        var expected = await whole.Content.ReadAsStringAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/inference?streaming=true") { Content = Json(CurlBody) };
        using var streamed = await fx.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        Assert.Null(streamed.Content.Headers.ContentLength); // chunked
        using var reader = new StreamReader(await streamed.Content.ReadAsStreamAsync());
        var buffer = new char[64];
        var text = new StringBuilder();
        int reads = 0, n;
        while ((n = await reader.ReadAsync(buffer)) > 0)
        {
            text.Append(buffer, 0, n);
            reads++;
        }
        Assert.Equal(expected, text.ToString());
        Assert.True(reads > 1, "the reply should arrive in several pieces");
    }

    [Fact]
    public async Task SystemAndAssistantTurnsUseTheChatFormat()
    {
        var body = "{\"messages\":[{\"role\":\"system\",\"content\":\"你是百川\"},{\"role\":\"user\",\"content\":\"你好\"}," +
            "{\"role\":\"assistant\",\"content\":\"你好!\"},{\"role\":\"user\",\"content\":\"你是谁?\"}],\"model\":\"baichuan2-tiny\"}";
        using var response = await fx.BaichuanClient.PostAsync("/inference", Json(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEmpty(await response.Content.ReadAsStringAsync());
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Baichuan);
    }

    [Theory]
    [InlineData("{\"messages\":[{\"role\":\"robot\",\"content\":\"hi\"}]}", "messages[0].role")]
    [InlineData("{\"messages\":[]}", "messages")]
    [InlineData("{\"messages\":\"hi\"}", "messages")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":5}]}", "messages[0].content")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"model\":7}", "model")]
    public async Task BadRequestsName(string body, string field)
    {
        using var response = await fx.Client.PostAsync("/inference", Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(field, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnUnknownModelIs404()
    {
        using var response = await fx.Client.PostAsync("/inference", Json("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"model\":\"gpt-9\"}"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task HealthIsOk()
    {
        using var response = await fx.Client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
