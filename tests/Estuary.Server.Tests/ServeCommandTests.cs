// `estuary serve` as a real process: it logs one ready line with its address, answers the README's curl request, and on
// SIGTERM stops and exits 0.
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Estuary.Server.Tests;

public sealed partial class ServeCommandTests
{
    [Fact]
    public async Task ServeStartsAnswersAndExitsZeroOnSigterm()
    {
        // artifacts/bin/Estuary.Server.Tests/<config>/ → artifacts/bin/Estuary.Cli/<config>/estuary
        var config = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Name;
        var exe = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "Estuary.Cli", config, "estuary"));
        Assert.True(File.Exists(exe), $"{exe} not built");
        var start = new ProcessStartInfo(exe, ["serve", "--port", "0", "--threads", "1", "--num-kv-blocks", "64", "--log-stats-interval", "0.2"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        try
        {
            string? address = null;
            var readTimeout = Task.Delay(TimeSpan.FromSeconds(30));
            while (address is null)
            {
                var lineTask = process.StandardError.ReadLineAsync();
                Assert.True(await Task.WhenAny(lineTask, readTimeout) == lineTask, "no ready line within 30 s");
                var line = await lineTask ?? throw new Xunit.Sdk.XunitException("serve exited before it was ready");
                if (ReadyLine().Match(line) is { Success: true } m) address = m.Groups[1].Value;
            }
            using var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
            using var reply = await client.PostAsync("/inference",
                new StringContent("{\"messages\": [{\"role\": \"user\", \"content\": \"你是谁?\"}]}", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
            Assert.NotEmpty(await reply.Content.ReadAsStringAsync());

            // Within a couple of intervals after the request, the log has an engine line that counted its tokens.
            string? engineLine = null;
            var statsTimeout = Task.Delay(TimeSpan.FromSeconds(10));
            while (engineLine is null)
            {
                var lineTask = process.StandardError.ReadLineAsync();
                Assert.True(await Task.WhenAny(lineTask, statsTimeout) == lineTask, "no engine line within 10 s");
                var line = await lineTask ?? throw new Xunit.Sdk.XunitException("serve exited without an engine line");
                if (line.StartsWith("engine: ", StringComparison.Ordinal)) engineLine = line;
            }
            Assert.Matches(@"^engine: prompt \d+\.\d tokens/s, generation \d+\.\d tokens/s, running \d+, waiting \d+, KV cache", engineLine);

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString()])) await kill.WaitForExitAsync();
            using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await process.WaitForExitAsync(exited.Token);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
    }

    [GeneratedRegex(@"^serving '[^']+' on (http://[^ ,]+)")]
    private static partial Regex ReadyLine();
}
