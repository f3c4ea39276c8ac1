// `estuary serve`: loads one model (progress bar), serves /inference, OpenAI /v1 and Triton /v2 over one engine, logs one ready
// line and, while busy, an engine line every --log-stats-interval; on Ctrl-C/SIGTERM stops accepting, finishes or aborts in-flight
// requests within the timeout, and exits 0.
using System.CommandLine;
using Estuary.Cli.Hosting;
using Estuary.Engine;
using Estuary.Engine.Reasoning;
using Estuary.Server;
using Estuary.Tokenization;

namespace Estuary.Cli.Commands;

/// <summary>Builds the serve command.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var engineOptions = new EngineOptions();
        var host = new Option<string>("--host") { Description = "Address to listen on (an IP, localhost, or 0.0.0.0)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port (0 = any free port)", DefaultValueFactory = _ => 8000 };
        var apiKey = new Option<string?>("--api-key") { Description = "Require 'Authorization: Bearer KEY' on /v1, /v2, /inference, /tokenize and /detokenize (default: $ESTUARY_API_KEY)" };
        var servedName = new Option<string?>("--served-model-name") { Description = "Model id shown by /v1/models (default: the model folder's name)" };
        var maxQueue = new Option<int>("--max-queue") { Description = "Requests that may wait beyond --max-num-seqs running ones; more get 503", DefaultValueFactory = _ => 256 };
        var excludeInput = new Option<bool>("--exclude-input-in-output") { Description = "Triton: leave the prompt out of text_output unless a request says otherwise" };
        var toolPrompt = new Option<string?>("--tool-prompt") { Description = "What the system message says before the tools when a built-in chat format (Baichuan2, Llama 2) gets them as text, e.g. in the model's language (a request's tool_prompt overrides it)" };
        var reasoningParser = new Option<string?>("--reasoning-parser") { Description = "How chat replies' reasoning is read: deepseek_r1 or qwen3 (<think>…</think> into the message's reasoning, as vLLM's parsers); default: none, all content" };
        var responsesStore = new Option<bool>("--enable-responses-api-store") { Description = "Keep the latest 1024 /v1/responses responses in memory: GET /v1/responses/{id} and previous_response_id (vLLM's switch)" };
        var toolParser = new Option<string?>("--tool-call-parser") { Description = "How tool calls are read from an \"auto\" reply: hermes (<tool_call> blocks), mistral ([TOOL_CALLS] and a JSON array), llama3_json ({\"name\", \"parameters\"} objects) or pythonic ([f(a=1)]) in the model's own text, as vLLM's parsers; default: Estuary's constrained JSON" };
        var autoToolChoice = new Option<bool>("--enable-auto-tool-choice") { Description = "Accepted for vLLM command lines: tool_choice \"auto\" is always on" };
        var enableChunked = new Option<bool>("--enable-chunked-prefill") { Description = "Split long prompts across steps (the default)" };
        var disableChunked = new Option<bool>("--disable-chunked-prefill") { Description = "Run every prompt in one step" };
        var chatOptions = new ChatFormatOptions();
        var maxBody = new Option<string>("--max-request-body") { Description = "Largest request body accepted (413 beyond)", DefaultValueFactory = _ => "4MiB" };
        var shutdownTimeout = new Option<double>("--shutdown-timeout") { Description = "Seconds in-flight requests get to finish on shutdown", DefaultValueFactory = _ => 10 };
        var statsInterval = new Option<double>("--log-stats-interval") { Description = "Seconds between engine lines in the log (throughput, queue, KV cache) while busy", DefaultValueFactory = _ => 10 };
        var disableStats = new Option<bool>("--disable-log-stats") { Description = "No periodic engine lines" };
        var runtimeLora = new Option<bool>("--enable-runtime-lora-updating") { Description = "Let POST /v1/load_lora_adapter and /v1/unload_lora_adapter add and remove adapters while serving, up to --max-loras (also on when $VLLM_ALLOW_RUNTIME_LORA_UPDATING is true or 1)" };
        var command = new Command("serve", "Serve a model over HTTP: /inference, OpenAI /v1, Triton /v2, /metrics");
        engineOptions.AddTo(command);
        var engineKind = new Option<string>("--engine") { Description = "continuous (paged KV, continuous batching) or naive (one request at a time, as HF + Flask)", DefaultValueFactory = _ => "continuous" };
        command.Options.Add(engineKind);
        foreach (var o in new Option[] { host, port, apiKey, servedName, maxQueue, excludeInput, toolPrompt, toolParser, reasoningParser, responsesStore, autoToolChoice, enableChunked, disableChunked, maxBody, shutdownTimeout, statsInterval, disableStats, runtimeLora })
            command.Options.Add(o);
        chatOptions.AddTo(command);
        command.SetAction(r =>
        {
            if (r.GetValue(enableChunked) && r.GetValue(disableChunked))
                throw new UsageException("--enable-chunked-prefill and --disable-chunked-prefill contradict each other");
            var dir = engineOptions.ModelDirectory(r);
            var config = engineOptions.ToConfig(r) with
            {
                EnableChunkedPrefill = !r.GetValue(disableChunked),
                EnableRuntimeLoraUpdating = r.GetValue(runtimeLora) || RuntimeLoraUpdatingFromEnvironment(),
            };
            config = r.GetValue(engineKind) switch
            {
                "continuous" => config,
                "naive" => config.AsNaiveBaseline(),
                var other => throw new UsageException($"--engine must be continuous or naive (got '{other}')"),
            };
            var options = new ServerOptions
            {
                Host = r.GetValue(host)!,
                Port = r.GetValue(port),
                ApiKey = r.GetValue(apiKey) ?? NullIfEmpty(Environment.GetEnvironmentVariable("ESTUARY_API_KEY")),
                ServedModelName = r.GetValue(servedName) ?? Path.GetFileName(Path.GetFullPath(dir).TrimEnd('/')),
                MaxQueue = r.GetValue(maxQueue),
                ExcludeInputInOutput = r.GetValue(excludeInput),
                ToolPrompt = NullIfEmpty(r.GetValue(toolPrompt)),
                ToolCallParser = r.GetValue(toolParser) switch
                {
                    null => ToolCallParser.Constrained,
                    var name when ToolCallParserNames.ByName.TryGetValue(name, out var parser) => parser,
                    var other => throw new UsageException($"--tool-call-parser must be {string.Join(", ", ToolCallParserNames.ByName.Keys)} " +
                        $"(got '{other}'); without it, calls are Estuary's constrained JSON"),
                },
                ReasoningParser = ReasoningFormat.Parse(r.GetValue(reasoningParser))
                    ?? throw new UsageException($"--reasoning-parser must be deepseek_r1 or qwen3 (got '{r.GetValue(reasoningParser)}')"),
                ResponsesStoreCapacity = r.GetValue(responsesStore) ? 1024 : 0,
                MaxRequestBodyBytes = ByteSize.Parse(r.GetValue(maxBody)!, "--max-request-body"),
                ShutdownTimeout = TimeSpan.FromSeconds(Math.Max(0, r.GetValue(shutdownTimeout))),
            };
            double interval = r.GetValue(statsInterval);
            if (!(interval > 0) || interval > 86400) throw new UsageException($"--log-stats-interval must be in (0, 86400] seconds (got {interval})");
            TimeSpan? logStats = r.GetValue(disableStats) ? null : TimeSpan.FromSeconds(interval);
            var optionErrors = options.Validate();
            if (optionErrors.Count > 0) throw new UsageException(string.Join("; ", optionErrors));
            chatOptions.TemplateText(r); // a bad name or file fails before the model loads
            using var engine = new AsyncLlmEngine(ModelLoading.Load(dir, config, loras: engineOptions.Loras(r)));
            var format = chatOptions.Resolve(r, dir, engine.Engine.Tokenizer);
            return Serve(engine, format, options, logStats).GetAwaiter().GetResult();
        });
        return command;
    }

    private static async Task<int> Serve(AsyncLlmEngine engine, IChatFormat format, ServerOptions options, TimeSpan? logStats)
    {
        await using var server = EstuaryServer.Create(engine, format, options);
        await server.StartAsync();
        Console.Error.WriteLine($"serving '{options.ServedModelName}' on {string.Join(", ", server.Addresses)} " +
            $"(/inference, OpenAI /v1 (chat, completions, responses), Triton /v2, /tokenize, /health, /metrics{(options.ApiKey is null ? "" : "; API key required")}" +
            $"{Speculation(engine.Engine.Config)}{Parsers(options)}{RuntimeLora(engine.Engine)}); Ctrl-C stops");
        using var stopLogging = new CancellationTokenSource();
        var logging = logStats is { } every ? StatsLog.RunAsync(() => engine.Stats, every, Console.Error, stopLogging.Token) : Task.CompletedTask;
        await server.WaitForShutdownAsync();
        await stopLogging.CancelAsync();
        await logging;
        Console.Error.WriteLine("stopped");
        return 0;
    }

    // "; speculative decoding: ngram, 4 tokens, n-grams of 2–4" when it is on.
    private static string Speculation(EngineConfig config) => config.NumSpeculativeTokens == 0 ? "" :
        $"; speculative decoding: ngram, {config.NumSpeculativeTokens} tokens, n-grams of {config.PromptLookupMin}–{config.PromptLookupMax}" +
        (config.SpeculativeDisableBySize is { } n ? $", off from {n} requests" : "");

    // "; reasoning parser qwen3; tool-call parser hermes; responses stored (1024)" for what is on.
    private static string Parsers(ServerOptions options) =>
        (options.ReasoningParser == ReasoningParser.None ? "" : $"; reasoning parser {ReasoningFormat.Name(options.ReasoningParser)}") +
        (options.ToolCallParser == ToolCallParser.Constrained ? "" : $"; tool-call parser {options.ToolCallParser.Name()}") +
        (options.ResponsesStoreCapacity > 0 ? $"; responses stored (the latest {options.ResponsesStoreCapacity})" : "");

    // "; runtime LoRA updating on (/v1/load_lora_adapter, /v1/unload_lora_adapter; max 16 adapters)" when it is.
    private static string RuntimeLora(LlmEngine engine) => !engine.RuntimeLoraUpdating ? "" :
        $"; runtime LoRA updating on (/v1/load_lora_adapter, /v1/unload_lora_adapter; max {engine.Config.MaxLoras} adapters)";

    /// <summary>vLLM's switch: VLLM_ALLOW_RUNTIME_LORA_UPDATING set to true or 1 (any case) turns runtime updating on.</summary>
    internal static bool RuntimeLoraUpdatingFromEnvironment() =>
        Environment.GetEnvironmentVariable("VLLM_ALLOW_RUNTIME_LORA_UPDATING")?.Trim().ToLowerInvariant() is "true" or "1";

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
