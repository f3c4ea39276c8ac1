// The Triton / TensorRT-LLM API: the issue's generate request, streaming deltas equal to the whole text, metadata and health.
using System.Net;
using System.Text;
using System.Text.Json;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class TritonApiTests(ServerFixture fx)
{
    private const string IssueRequest = "{\"text_input\":\"你是谁?\",\"max_tokens\":512,\"bad_words\":\"\",\"stop_words\":\"\",\"end_id\":2}";

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Fact]
    public async Task TheIssueRequestWorksOnBothModelsAndTheEnsembleAlias()
    {
        foreach (var (client, name) in new[] { (fx.Client, "ensemble"), (fx.Client, "stories260k"), (fx.BaichuanClient, "ensemble") })
        {
            using var response = await client.PostAsync($"/v2/models/{name}/generate", Json(IssueRequest));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(name, doc.RootElement.GetProperty("model_name").GetString());
            Assert.Equal("1", doc.RootElement.GetProperty("model_version").GetString());
            // exclude_input_in_output defaults to the server flag (off), so the output echoes the input, as Triton does.
            Assert.StartsWith("你是谁?", doc.RootElement.GetProperty("text_output").GetString());
        }
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Baichuan);
    }

    [Fact]
    public async Task StreamedDeltasEqualTheWholeTextForTheSameSeed()
    {
        const string body = "{\"text_input\":\"Once upon a time\",\"max_tokens\":40,\"temperature\":0.8,\"top_k\":20,\"top_p\":0.9,\"random_seed\":77," +
            "\"exclude_input_in_output\":true,\"stop_words\":[\"zzz\"],\"bad_words\":\"dragon,castle\",\"return_log_probs\":true}";
        using var whole = await fx.Client.PostAsync("/v2/models/ensemble/generate", Json(body));
        using var doc = JsonDocument.Parse(await whole.Content.ReadAsStringAsync());
        var expected = doc.RootElement.GetProperty("text_output").GetString()!;
        Assert.Equal(40, doc.RootElement.GetProperty("output_log_probs").GetArrayLength());
        Assert.True(doc.RootElement.GetProperty("cum_log_probs").GetSingle() < 0);
        Assert.DoesNotContain("dragon", expected);

        var events = await Sse.ReadAsync(fx.Client, "/v2/models/ensemble/generate_stream", body);
        var text = new StringBuilder();
        foreach (var e in events)
        {
            using var chunk = JsonDocument.Parse(e);
            text.Append(chunk.RootElement.GetProperty("text_output").GetString());
        }
        Assert.True(events.Count > 3);
        Assert.Equal(expected, text.ToString());
    }

    [Fact]
    public async Task HealthReadinessAndMetadata()
    {
        foreach (var path in new[] { "/v2/health/live", "/v2/health/ready", "/v2/models/ensemble/ready", "/v2/models/stories260k/ready" })
            Assert.Equal(HttpStatusCode.OK, (await fx.Client.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client.GetAsync("/v2/models/other/ready")).StatusCode);
        using var doc = JsonDocument.Parse(await fx.Client.GetStringAsync("/v2/models/ensemble"));
        Assert.Equal("ensemble", doc.RootElement.GetProperty("name").GetString());
        Assert.Contains("1", doc.RootElement.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.Contains("text_input", doc.RootElement.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        Assert.Contains("text_output", doc.RootElement.GetProperty("outputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()));

        using var server = JsonDocument.Parse(await fx.Client.GetStringAsync("/v2"));
        Assert.Equal("estuary", server.RootElement.GetProperty("name").GetString());
        Assert.Contains("generate", server.RootElement.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task ModelRoutesAnswerUnderTheirVersionToo()
    {
        // Triton's clients may name the version: /v2/models/{m}/versions/1/…; any other version is unknown.
        foreach (var path in new[] { "/v2/models/ensemble/versions/1/ready", "/v2/models/ensemble/versions/1" })
            Assert.Equal(HttpStatusCode.OK, (await fx.Client.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await fx.Client.GetAsync("/v2/models/ensemble/versions/2/ready")).StatusCode);

        const string body = "{\"text_input\":\"Once upon a time\",\"max_tokens\":6,\"temperature\":0,\"exclude_input_in_output\":true}";
        using var plain = await fx.Client.PostAsync("/v2/models/ensemble/generate", Json(body));
        using var versioned = await fx.Client.PostAsync("/v2/models/ensemble/versions/1/generate", Json(body));
        Assert.Equal(HttpStatusCode.OK, versioned.StatusCode);
        static string Text(string json) => JsonDocument.Parse(json).RootElement.GetProperty("text_output").GetString()!;
        Assert.Equal(Text(await plain.Content.ReadAsStringAsync()), Text(await versioned.Content.ReadAsStringAsync()));
        var events = await Sse.ReadAsync(fx.Client, "/v2/models/ensemble/versions/1/generate_stream", body);
        Assert.Equal(Text(await plain.Content.ReadAsStringAsync()), string.Concat(events.Select(Text)));

        using var wrong = await fx.Client.PostAsync("/v2/models/ensemble/versions/7/generate", Json(body));
        Assert.Equal(HttpStatusCode.NotFound, wrong.StatusCode);
        Assert.Contains("version 7", await wrong.Content.ReadAsStringAsync());
        await ServerFixture.AssertAllBlocksFreeAsync(fx.Stories);
    }

    [Theory]
    [InlineData("ensemble", "{\"text_input\":\"hi\",\"beam_width\":4}", 400, "beam_width")]
    [InlineData("ensemble", "{\"max_tokens\":5}", 400, "text_input")]
    [InlineData("ensemble", "{\"text_input\":\"hi\",\"max_tokens\":0}", 400, "max_tokens")]
    [InlineData("ensemble", "{\"text_input\":\"hi\",\"max_tokens\":100000}", 400, "max_tokens")]
    [InlineData("ensemble", "{\"text_input\":\"hi\",\"top_p\":2}", 400, "top_p")]
    [InlineData("ensemble", "{\"text_input\":\"hi\",\"stop_words\":7}", 400, "stop_words")]
    [InlineData("ensemble", "{\"text_input\":\"hi\",\"temperature\":\"hot\"}", 400, "temperature")]
    [InlineData("llama", "{\"text_input\":\"hi\"}", 404, "llama")]
    public async Task BadRequestsGetTritonErrors(string model, string body, int status, string mention)
    {
        using var response = await fx.Client.PostAsync($"/v2/models/{model}/generate", Json(body));
        Assert.Equal(status, (int)response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains(mention, doc.RootElement.GetProperty("error").GetString());
    }
}
