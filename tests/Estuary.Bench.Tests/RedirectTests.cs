// A server behind a 301 (an http→https or path rewrite): HttpClient follows it as a GET, so the report must say so and where it led,
// not just show the GET's error.
using System.Diagnostics;
using System.Net;
using Estuary.Bench.Clients;
using Estuary.Bench.Workloads;
using Estuary.Testing;
using Estuary.Tokenization;

namespace Estuary.Bench.Tests;

public sealed class RedirectTests
{
    [Fact]
    public async Task APostTurnedIntoAGetByA301IsNamed()
    {
        int port;
        using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var serving = Task.Run(async () =>
        {
            for (int i = 0; i < 2; i++)
            {
                var context = await listener.GetContextAsync();
                if (context.Request.HttpMethod == "POST")
                {
                    context.Response.StatusCode = 301;
                    context.Response.RedirectLocation = "/moved/v1/chat/completions";
                }
                else
                {
                    context.Response.StatusCode = 405;
                }
                context.Response.Close();
            }
        });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var tokenizer = TextTokenizer.Load(Fixtures.Path("stories260k"));
        var client = new OpenAiBenchClient(http, new Uri($"http://127.0.0.1:{port}/"), "m", chat: true, tokenizer);
        var result = await client.SendAsync(new BenchRequest(0, "hi", [1], 2), Stopwatch.StartNew(), CancellationToken.None);
        await serving;
        Assert.False(result.Success);
        Assert.StartsWith($"the server redirected the POST to http://127.0.0.1:{port}/moved/v1/chat/completions, which turned it into a GET (HTTP 405",
            result.Error);
    }
}
