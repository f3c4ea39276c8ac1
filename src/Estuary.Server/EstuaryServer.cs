// Composes the HTTP server: Kestrel on one address, error handling, API-key check, and the API families (health, /inference,
// OpenAI /v1, Triton /v2, /tokenize and /detokenize, /metrics, and vLLM's LoRA load/unload when runtime updating is on) all over one AsyncLlmEngine. Invariant: composition only; behaviour lives in the Map* classes.
using System.Net;
using Estuary.Engine;
using Estuary.Server.Apis;
using Estuary.Server.Apis.LoraAdapters;
using Estuary.Server.Apis.OpenAi;
using Estuary.Server.Apis.Responses;
using Estuary.Server.Apis.Simple;
using Estuary.Server.Apis.Tokenize;
using Estuary.Server.Apis.Triton;
using Estuary.Server.Generation;
using Estuary.Server.Http;
using Estuary.Server.Metrics;
using Estuary.Engine.Reasoning;
using Estuary.Tokenization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Estuary.Server;

/// <summary>The estuary HTTP server: the simple, OpenAI and Triton APIs over one engine.</summary>
public sealed class EstuaryServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EstuaryServer(WebApplication app) => _app = app;

    /// <summary>
    /// Builds a server over <paramref name="engine"/> (which the caller keeps owning and disposes after the server stopped).
    /// <paramref name="configureLogging"/> replaces the default console logging (warnings and errors only).
    /// </summary>
    /// <exception cref="ArgumentException">an option is invalid; the message names it.</exception>
    public static EstuaryServer Create(AsyncLlmEngine engine, IChatFormat chatFormat, ServerOptions options,
        Action<ILoggingBuilder>? configureLogging = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(chatFormat);
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));
        var address = ParseHost(options.Host);
        var reasoning = ReasoningFormat.Create(options.ReasoningParser, engine.Engine.Tokenizer);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.Listen(address, options.Port);
        });
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = options.ShutdownTimeout);
        builder.Logging.ClearProviders();
        if (configureLogging is not null) configureLogging(builder.Logging);
        else builder.Logging.AddSimpleConsole(c => c.SingleLine = true).SetMinimumLevel(LogLevel.Warning);

        var metrics = new ServerMetrics(() => engine.Stats);
        builder.Services.AddSingleton(metrics);
        builder.Services.AddSingleton(new ServedModel(engine, chatFormat, options.ServedModelName, options.MaxQueue, metrics) { ToolPrompt = options.ToolPrompt, ToolCallParser = options.ToolCallParser, Reasoning = reasoning,
            Responses = options.ResponsesStoreCapacity > 0 ? new ResponseStore(options.ResponsesStoreCapacity) : null,
        });
        builder.Services.AddSingleton(options);

        var app = builder.Build();
        app.UseMiddleware<ErrorHandlingMiddleware>();
        if (options.ApiKey is { } key) app.UseMiddleware<ApiKeyMiddleware>(key);
        app.MapHealthApi();
        app.MapInferenceApi();
        app.MapOpenAiApi();
        app.MapResponsesApi();
        app.MapTritonApi();
        app.MapTokenizeApi();
        app.MapLoraAdapterApi(engine.Engine.RuntimeLoraUpdating);
        app.MapMetrics("/metrics", metrics.Registry);
        AbortWhatIsLeftBeforeTheShutdownDeadline(app.Lifetime, engine, options.ShutdownTimeout);
        return new EstuaryServer(app);
    }

    /// <summary>
    /// On shutdown in-flight requests get the shutdown timeout to finish; a moment before the host drops their connections, whatever
    /// is left is aborted in the engine, so each stream ends with finish_reason "abort" and [DONE] (and each waiting request gets its
    /// answer) rather than a reset connection.
    /// </summary>
    private static void AbortWhatIsLeftBeforeTheShutdownDeadline(IHostApplicationLifetime lifetime, AsyncLlmEngine engine, TimeSpan timeout)
    {
        // Time left to write the endings: 2 s (half a short timeout). One second once proved too little on a loaded 2-core machine.
        var grace = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(2).Ticks, timeout.Ticks / 2));
        lifetime.ApplicationStopping.Register(() => _ = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(timeout - grace, lifetime.ApplicationStopped);
                engine.AbortAll();
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                // everything finished in time (the host stopped first), or the engine is already gone
            }
        }));
    }

    /// <summary>The bound addresses (with the real port when <see cref="ServerOptions.Port"/> was 0), once started.</summary>
    public IReadOnlyList<string> Addresses =>
        [.. _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? []];

    /// <summary>Admitted requests not yet finished (running or queued); 0 when idle, or an admission leaked.</summary>
    internal int NumInFlight => _app.Services.GetRequiredService<ServedModel>().InFlight;

    /// <summary>Fires when the server has stopped accepting requests and begun shutting down.</summary>
    public CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    /// <summary>Starts listening.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => _app.StartAsync(cancellationToken);

    /// <summary>Waits until Ctrl-C, SIGTERM or <see cref="StopAsync"/> stopped the server (in-flight requests finished or aborted).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops accepting, lets in-flight requests finish within the shutdown timeout, then aborts the rest.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private static IPAddress ParseHost(string host) => host switch
    {
        "localhost" => IPAddress.Loopback,
        _ when IPAddress.TryParse(host, out var ip) => ip,
        _ => throw new ArgumentException($"host must be an IP address or 'localhost' (got '{host}')"),
    };
}
