// A background loop that drives LlmEngine.Step() and streams each request's outputs through its own channel.
// Invariant: only the loop thread touches the engine; adds, aborts and LoRA installs/unloads are queued to it and run between
// steps. Cancelling a stream aborts the request, which frees its KV blocks before the next step.
using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Estuary.Engine;

/// <summary>Thread-safe, streaming front of <see cref="LlmEngine"/>.</summary>
public sealed class AsyncLlmEngine : IDisposable
{
    private readonly LlmEngine _engine;
    private readonly ConcurrentQueue<Action> _commands = new();
    private readonly ConcurrentDictionary<string, ChannelWriter<RequestOutput>> _streams = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Thread _loop;
    private volatile bool _stopping;
    private long _nextId;

    /// <summary>Starts the loop over <paramref name="engine"/> (which this object then owns).</summary>
    public AsyncLlmEngine(LlmEngine engine)
    {
        _engine = engine;
        _loop = new Thread(Run) { IsBackground = true, Name = "estuary-engine" };
        _loop.Start();
    }

    /// <summary>The engine (read its immutable settings only; it is driven by the loop thread).</summary>
    public LlmEngine Engine => _engine;

    /// <summary>Latest occupancy snapshot.</summary>
    public EngineStats Stats { get; private set; } = new(0, 0, 0, 0, 0, 0, 0);

    /// <summary>
    /// Validates and queues a request; bad input throws <see cref="ArgumentException"/> here, before anything streams.
    /// Enumerate the result to receive outputs; cancelling or abandoning the enumeration aborts the request.
    /// </summary>
    public IAsyncEnumerable<RequestOutput> Generate(int[] promptIds, SamplingParams sampling, string? requestId = null,
        CancellationToken cancellationToken = default)
    {
        var errors = _engine.ValidateRequest(promptIds, sampling);
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));
        ObjectDisposedException.ThrowIf(_stopping, this);
        var id = requestId ?? $"req-{Interlocked.Increment(ref _nextId)}";
        var channel = Channel.CreateUnbounded<RequestOutput>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        if (!_streams.TryAdd(id, channel.Writer)) throw new ArgumentException($"request id '{id}' is already in use");
        Enqueue(() =>
        {
            try
            {
                _engine.AddRequest(id, promptIds, sampling);
            }
            catch (Exception e)
            {
                _streams.TryRemove(id, out _);
                channel.Writer.TryComplete(e);
            }
        });
        // Cancelling the token aborts the request even if its stream is never read (a caller that fails after starting it).
        var registration = cancellationToken.Register(() =>
        {
            if (_stopping || !_streams.ContainsKey(id)) return;
            try
            {
                Abort(id);
            }
            catch (ObjectDisposedException)
            {
                // the engine stopped meanwhile; its streams were completed then
            }
        });
        return Read(id, channel.Reader, registration, cancellationToken);
    }

    /// <summary>Aborts a request by id; its stream ends with a final output whose finish reason is Abort.</summary>
    public void Abort(string requestId) => Enqueue(() => AbortOnLoop(requestId));

    /// <summary>Aborts every request in flight (a server's shutdown deadline); each stream ends with finish reason Abort.</summary>
    public void AbortAll() => Enqueue(() =>
    {
        foreach (var id in _streams.Keys) AbortOnLoop(id);
    });

    /// <summary>
    /// Loads the PEFT adapter in <paramref name="dir"/> as <paramref name="name"/> while serving (needs
    /// <see cref="EngineConfig.EnableRuntimeLoraUpdating"/>): the files are read and checked on the thread pool, then the adapter is
    /// installed on the loop between two steps. Fails as <see cref="LlmEngine.LoadLora"/> does, leaving everything unchanged.
    /// </summary>
    public async Task LoadLoraAsync(string name, string dir, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        var prepared = await Task.Run(() => _engine.PrepareLora(name, dir), cancellationToken).ConfigureAwait(false);
        try
        {
            await OnLoopAsync(() => _engine.InstallLora(prepared)).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            prepared.Dispose(); // the engine stopped before the install ran
            throw;
        }
    }

    /// <summary>
    /// Unloads adapter <paramref name="name"/> between two steps (see <see cref="LlmEngine.UnloadLora"/>: running requests finish);
    /// false when no adapter has that name.
    /// </summary>
    public async Task<bool> UnloadLoraAsync(string name)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        bool found = false;
        await OnLoopAsync(() => found = _engine.UnloadLora(name)).ConfigureAwait(false);
        return found;
    }

    // Runs work on the loop thread between steps; the task carries its exception (ObjectDisposedException if the engine stopped first).
    private Task OnLoopAsync(Action work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(() =>
        {
            if (_stopping)
            {
                done.TrySetException(new ObjectDisposedException(nameof(AsyncLlmEngine)));
                return;
            }
            try
            {
                work();
                done.TrySetResult();
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        });
        return done.Task;
    }

    private void AbortOnLoop(string requestId)
    {
        var last = _engine.AbortRequest(requestId);
        if (!_streams.TryRemove(requestId, out var writer)) return;
        if (last is not null) writer.TryWrite(last);
        writer.TryComplete();
    }

    /// <summary>Stops the loop and disposes the engine.</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _wake.Release();
        _loop.Join();
        while (_commands.TryDequeue(out var command)) command(); // a queued LoRA load or unload answers (ObjectDisposedException)
        foreach (var writer in _streams.Values) writer.TryComplete(new ObjectDisposedException(nameof(AsyncLlmEngine)));
        _engine.Dispose();
        _wake.Dispose();
    }

    private async IAsyncEnumerable<RequestOutput> Read(string id, ChannelReader<RequestOutput> reader, CancellationTokenRegistration registration,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        bool finished = false;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var output))
                {
                    finished |= output.Finished;
                    yield return output;
                }
            }
        }
        finally
        {
            registration.Dispose();
            if (!finished && !_stopping) Abort(id);
        }
    }

    private void Enqueue(Action command)
    {
        _commands.Enqueue(command);
        _wake.Release();
    }

    private void Run()
    {
        while (!_stopping)
        {
            while (_commands.TryDequeue(out var command)) command();
            if (!_engine.HasUnfinishedRequests)
            {
                Stats = _engine.Stats;
                _wake.Wait(); // block, never spin, while idle
                continue;
            }
            IReadOnlyList<RequestOutput> outputs;
            try
            {
                outputs = _engine.Step();
            }
            catch (Exception e)
            {
                // A failed step poisons every in-flight request; report it to each stream instead of hanging them.
                foreach (var (id, writer) in _streams)
                {
                    _engine.Abort(id);
                    writer.TryComplete(new InvalidOperationException("engine step failed: " + e.Message, e));
                }
                _streams.Clear();
                continue;
            }
            Stats = _engine.Stats;
            foreach (var output in outputs)
            {
                if (!_streams.TryGetValue(output.RequestId, out var writer)) continue;
                writer.TryWrite(output);
                if (output.Finished && _streams.TryRemove(output.RequestId, out _)) writer.TryComplete();
            }
        }
    }
}
