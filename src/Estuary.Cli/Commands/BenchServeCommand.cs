// `estuary bench serve`: drives a running server over HTTP (openai, triton or inference dialect) through a concurrency sweep or
// at a Poisson request rate; prints a table with a live progress bar and writes JSON/CSV/PNG with --out.
using System.CommandLine;
using Estuary.Bench.Clients;
using Estuary.Bench.Output;
using Estuary.Bench.Running;
using Estuary.Bench.Stats;
using Estuary.Bench.Workloads;
using Estuary.Cli.Bench;
using Estuary.Cli.Hosting;
using Estuary.Tokenization;
using Spectre.Console;

namespace Estuary.Cli.Commands;

/// <summary>Builds `bench serve`.</summary>
internal static class BenchServeCommand
{
    public static Command Create()
    {
        var baseUrl = new Option<string>("--base-url") { Description = "Server address", DefaultValueFactory = _ => "http://127.0.0.1:8000" };
        var api = new Option<string>("--api") { Description = "openai, openai-completions, triton, triton-nostream or inference", DefaultValueFactory = _ => "openai" };
        var model = new Option<string?>("--model", "-m") { Description = "Model directory whose tokenizer builds the prompts (default: the embedded model)" };
        var servedName = new Option<string?>("--served-model-name") { Description = "Model name sent to the server (default: the folder name; 'ensemble' for triton)" };
        var apiKey = new Option<string?>("--api-key") { Description = "Bearer token for the server" };
        var label = new Option<string?>("--label") { Description = "Name of this deployment in charts and files" };
        var options = new WorkloadOptions();
        var command = new Command("serve", "Benchmark a running server over HTTP");
        foreach (var o in new Option[] { baseUrl, api, model, servedName, apiKey, label }) command.Options.Add(o);
        options.AddTo(command);
        command.SetAction(async (r, ct) =>
        {
            var modelDir = DefaultModel.Resolve(r.GetValue(model));
            var tokenizer = TextTokenizer.Load(modelDir);
            var address = r.GetValue(baseUrl)!;
            if (!Uri.TryCreate(address.TrimEnd('/') + "/", UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new UsageException($"--base-url: '{address}' is not an http:// or https:// address");
            if (uri.AbsolutePath.EndsWith("/v1/", StringComparison.Ordinal))
            {
                // vLLM's and OpenAI's clients take the base with /v1; the requests here add it themselves.
                uri = new Uri(uri, "..");
                Console.Error.WriteLine($"note: --base-url ends in /v1; sending to {uri}v1/…");
            }
            options.CheckOut(r);
            var dialect = r.GetValue(api)!;
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
            var name = r.GetValue(servedName) ?? (dialect.StartsWith("triton", StringComparison.Ordinal) ? "ensemble" : Path.GetFileName(Path.GetFullPath(modelDir).TrimEnd('/')));
            IBenchClient client = dialect switch
            {
                "openai" => new OpenAiBenchClient(http, uri, name, chat: true, tokenizer, r.GetValue(apiKey)),
                "openai-completions" => new OpenAiBenchClient(http, uri, name, chat: false, tokenizer, r.GetValue(apiKey)),
                "triton" => new TritonBenchClient(http, uri, name, stream: true, tokenizer),
                "triton-nostream" => new TritonBenchClient(http, uri, name, stream: false, tokenizer),
                "inference" => new InferenceBenchClient(http, uri, tokenizer, r.GetValue(apiKey)),
                _ => throw new UsageException($"--api must be openai, openai-completions, triton, triton-nostream or inference (got '{dialect}')"),
            };
            var run = await SweepRunner.RunAsync(client, options.Read(r, tokenizer), r.GetValue(label) ?? client.Name, uri.ToString(), name, ct);
            options.WriteOutputs(r, run);
            return run.Levels.Sum(l => l.Failed) == 0 ? 0 : 1;
        });
        return command;
    }
}
