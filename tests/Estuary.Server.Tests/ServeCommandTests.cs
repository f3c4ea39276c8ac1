// `estuary serve` as a real process: it logs one ready line with its address, answers the README's curl request, and on
// SIGTERM stops and exits 0.
using System.Diagnostics;
using System.Globalization;
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
            var ready = await ReadLogUntilAsync(process, ReadyLine(), TimeSpan.FromSeconds(30), "ready line");
            var address = ready.Groups[1].Value;
            using var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
            using var reply = await client.PostAsync("/inference",
                new StringContent("{\"messages\": [{\"role\": \"user\", \"content\": \"你是谁?\"}]}", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
            Assert.NotEmpty(await reply.Content.ReadAsStringAsync());

            // Within a couple of intervals after the request, the log has an engine line that counted its tokens (an idle engine
            // prints none, so the first line covers the request's steps).
            var stats = await ReadLogUntilAsync(process, EngineLine(), TimeSpan.FromSeconds(10), "engine line");
            Assert.True(double.Parse(stats.Groups[1].Value, CultureInfo.InvariantCulture) + double.Parse(stats.Groups[2].Value, CultureInfo.InvariantCulture) > 0,
                stats.Value);

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

    [Theory]
    [InlineData("env")]
    [InlineData("flag")]
    public async Task RuntimeLoraUpdatingIsSwitchedOnByTheFlagOrVllmsVariable(string how)
    {
        var config = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/')).Name;
        var exe = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "Estuary.Cli", config, "estuary"));
        string[] args = ["serve", "--port", "0", "--threads", "1", "--num-kv-blocks", "64", "--disable-log-stats", "--max-loras", "3",
            "--model", Estuary.Testing.Fixtures.Path("baichuan2-tiny-rope"), .. how == "flag" ? new[] { "--enable-runtime-lora-updating" } : []];
        var start = new ProcessStartInfo(exe, args) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.Environment["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] = how == "env" ? "TRUE" : "false";
        using var process = Process.Start(start)!;
        try
        {
            var ready = await ReadLogUntilAsync(process, WholeReadyLine(), TimeSpan.FromSeconds(30), "ready line");
            Assert.Contains("runtime LoRA updating on (/v1/load_lora_adapter, /v1/unload_lora_adapter; max 3 adapters)", ready.Value);
            using var client = new HttpClient { BaseAddress = new Uri(ready.Groups[1].Value), Timeout = TimeSpan.FromSeconds(30) };
            var body = $"{{\"lora_name\": \"bible\", \"lora_path\": {System.Text.Json.JsonSerializer.Serialize(Estuary.Testing.Fixtures.Path("lora"))}}}";
            using var load = await client.PostAsync("/v1/load_lora_adapter", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, load.StatusCode);
            using var completion = await client.PostAsync("/v1/completions",
                new StringContent("{\"model\": \"bible\", \"prompt\": \"x\", \"max_tokens\": 2}", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, completion.StatusCode);
        }
        finally
        {
            if (!process.HasExited) process.Kill();
        }
    }

    /// <summary>Reads serve's log (stderr) until a line matches <paramref name="pattern"/>; fails after <paramref name="timeout"/>.</summary>
    private static async Task<Match> ReadLogUntilAsync(Process process, Regex pattern, TimeSpan timeout, string what)
    {
        var deadline = Task.Delay(timeout);
        while (true)
        {
            var lineTask = process.StandardError.ReadLineAsync();
            Assert.True(await Task.WhenAny(lineTask, deadline) == lineTask, $"no {what} within {timeout.TotalSeconds} s");
            var line = await lineTask ?? throw new Xunit.Sdk.XunitException($"serve exited before its {what}");
            if (pattern.Match(line) is { Success: true } m) return m;
        }
    }

    [GeneratedRegex(@"^serving '[^']+' on (http://[^ ,]+)")]
    private static partial Regex ReadyLine();

    [GeneratedRegex(@"^serving '[^']+' on (http://[^ ,]+).*$")]
    private static partial Regex WholeReadyLine();

    [GeneratedRegex(@"^engine: prompt (\d+\.\d) tokens/s, generation (\d+\.\d) tokens/s, running \d+, waiting \d+, KV cache")]
    private static partial Regex EngineLine();
}
