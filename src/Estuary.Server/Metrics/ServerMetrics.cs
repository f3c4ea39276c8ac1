// Prometheus metrics of one server (its own registry, so several servers in one process never share counters):
// engine occupancy read from AsyncLlmEngine.Stats at scrape time, request counters and latency histograms recorded per request.
using Estuary.Engine;
using Prometheus;

namespace Estuary.Server.Metrics;

internal sealed class ServerMetrics
{
    private readonly Gauge _running;
    private readonly Gauge _waiting;
    private readonly Gauge _blocksUsed;
    private readonly Gauge _blocksTotal;
    private readonly Gauge _cacheUsage;
    private readonly Gauge _prefixHitRate;
    private readonly Counter _preemptions;
    private readonly Counter _draftTokens;
    private readonly Counter _acceptedDraftTokens;
    private readonly Counter _finished;
    private readonly Counter _promptTokens;
    private readonly Counter _cachedPromptTokens;
    private readonly Counter _generationTokens;
    private readonly Histogram _ttft;
    private readonly Histogram _tpot;
    private readonly Histogram _e2e;
    private readonly Histogram _queue;

    public ServerMetrics(Func<EngineStats> stats)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        _running = f.CreateGauge("estuary_num_requests_running", "Requests in the engine's running batch.");
        _waiting = f.CreateGauge("estuary_num_requests_waiting", "Requests waiting for the engine to admit them.");
        _blocksUsed = f.CreateGauge("estuary_kv_cache_blocks_used", "KV-cache blocks in use.");
        _blocksTotal = f.CreateGauge("estuary_kv_cache_blocks_total", "KV-cache blocks in the pool.");
        _cacheUsage = f.CreateGauge("estuary_kv_cache_usage_ratio", "Fraction of KV-cache blocks in use (0 to 1).");
        _prefixHitRate = f.CreateGauge("estuary_prefix_cache_hit_rate", "Prompt tokens served from the prefix cache / prompt tokens, since start.");
        _preemptions = f.CreateCounter("estuary_num_preemptions_total", "Requests preempted to free KV blocks.");
        _draftTokens = f.CreateCounter("estuary_spec_decode_num_draft_tokens_total", "Draft tokens proposed and verified (speculative decoding).");
        _acceptedDraftTokens = f.CreateCounter("estuary_spec_decode_num_accepted_tokens_total", "Draft tokens accepted (speculative decoding).");
        _finished = f.CreateCounter("estuary_request_success_total", "Finished requests by finish reason (stop, length, abort).", "finish_reason");
        Rejected = f.CreateCounter("estuary_request_rejected_total", "Requests refused with 503 because the queue was full.");
        _promptTokens = f.CreateCounter("estuary_prompt_tokens_total", "Prompt tokens of started requests.");
        _cachedPromptTokens = f.CreateCounter("estuary_prefix_cache_hit_tokens_total", "Prompt tokens served from the prefix cache.");
        _generationTokens = f.CreateCounter("estuary_generation_tokens_total", "Generated tokens.");
        var latency = new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 18) };
        _ttft = f.CreateHistogram("estuary_time_to_first_token_seconds", "Time from arrival to the first generated token.", latency);
        _tpot = f.CreateHistogram("estuary_time_per_output_token_seconds", "Mean time between generated tokens of a request.", latency);
        _e2e = f.CreateHistogram("estuary_e2e_request_latency_seconds", "Time from arrival to the end of the request.", latency);
        _queue = f.CreateHistogram("estuary_request_queue_time_seconds",
            "Time from arrival in the engine to the first admission into the running batch.", latency);
        Registry.AddBeforeCollectCallback(() =>
        {
            var s = stats();
            _running.Set(s.NumRunning);
            _waiting.Set(s.NumWaiting);
            _blocksTotal.Set(s.NumKvBlocks);
            _blocksUsed.Set(s.NumKvBlocks - s.NumFreeKvBlocks);
            _cacheUsage.Set(s.NumKvBlocks == 0 ? 0 : (double)(s.NumKvBlocks - s.NumFreeKvBlocks) / s.NumKvBlocks);
            _preemptions.IncTo(s.NumPreemptions);
            _draftTokens.IncTo(s.NumDraftTokens);
            _acceptedDraftTokens.IncTo(s.NumAcceptedDraftTokens);
            _prefixHitRate.Set(_promptTokens.Value == 0 ? 0 : _cachedPromptTokens.Value / _promptTokens.Value);
        });
    }

    public CollectorRegistry Registry { get; }

    public Counter Rejected { get; }

    public void RecordFirstToken(double seconds, int promptTokens, int cachedTokens)
    {
        _ttft.Observe(seconds);
        _promptTokens.Inc(promptTokens);
        _cachedPromptTokens.Inc(cachedTokens);
    }

    public void RecordFinish(string reason, double e2eSeconds, double? firstTokenSeconds, int outputTokens, double? queueSeconds)
    {
        if (queueSeconds is { } q) _queue.Observe(q); // arrival → first admission to the running batch, as the engine measured it
        _finished.WithLabels(reason).Inc();
        _e2e.Observe(e2eSeconds);
        _generationTokens.Inc(outputTokens);
        if (firstTokenSeconds is not { } ttft) return;
        double perToken = outputTokens > 1 ? (e2eSeconds - ttft) / (outputTokens - 1) : 0;
        if (outputTokens > 1) _tpot.Observe(perToken);
    }
}
