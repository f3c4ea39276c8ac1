// vLLM's "priority" request field on chat and completions: accepted (any value) by a server running the priority order, 0
// everywhere; any other value under first-come-first-served is a 400 naming the field, as vLLM refuses it.
using System.Text;
using System.Text.Json;
using Estuary.Engine;
using Estuary.Engine.Scheduling;

namespace Estuary.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class PriorityServingTests(ServerFixture fx)
{
    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Fact]
    public async Task APriorityIsRefusedUnderFcfsAndHonouredUnderThePriorityOrder()
    {
        const string chat = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":3,\"priority\":";
        const string completion = "{\"prompt\":\"hi\",\"max_tokens\":3,\"priority\":";
        foreach (var (path, body) in new[] { ("/v1/chat/completions", chat), ("/v1/completions", completion) })
        {
            using var refused = await fx.Client.PostAsync(path, Json(body + "-2}"));
            Assert.Equal(400, (int)refused.StatusCode);
            using var doc = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.Equal("priority", doc.RootElement.GetProperty("error").GetProperty("param").GetString());
            using var zero = await fx.Client.PostAsync(path, Json(body + "0}"));
            Assert.Equal(200, (int)zero.StatusCode);
        }

        using var engine = new AsyncLlmEngine(LlmEngine.Load(ServerFixture.EmbeddedModel,
            new EngineConfig { NumThreads = 1, NumKvBlocks = 64, MaxNumSeqs = 2, Order = RequestOrder.Priority }));
        var client = await fx.StartAsync(engine, new ServerOptions { ServedModelName = "prioritised" });
        foreach (var (path, body) in new[] { ("/v1/chat/completions", chat), ("/v1/completions", completion) })
        {
            var responses = await Task.WhenAll(new[] { 5, -2, 0, 5 }.Select(p => client.PostAsync(path, Json(body + p + "}"))));
            foreach (var r in responses)
            {
                Assert.Equal(200, (int)r.StatusCode);
                r.Dispose();
            }
        }
        await ServerFixture.AssertAllBlocksFreeAsync(engine);
    }
}
