// Settings of one HTTP server in front of one engine: where it listens and how it admits, authenticates and shuts down.
// Invariant: immutable; EstuaryServer.Create validates it once.
using Estuary.Engine.Reasoning;

namespace Estuary.Server;

/// <summary>How <see cref="EstuaryServer"/> listens and admits requests.</summary>
public sealed record ServerOptions
{
    /// <summary>Address to bind: an IP address, "localhost", or "0.0.0.0" / "::" for every interface.</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>TCP port (0 picks a free one; read the bound address from <see cref="EstuaryServer.Addresses"/>).</summary>
    public int Port { get; init; } = 8000;
    /// <summary>When set, /v1, /v2 (except health) and /inference require <c>Authorization: Bearer</c> with this key.</summary>
    public string? ApiKey { get; init; }
    /// <summary>Model id shown by /v1/models and accepted in "model" fields.</summary>
    public string ServedModelName { get; init; } = "model";
    /// <summary>Requests allowed to wait beyond the engine's max_num_seqs running ones; more get 503 with Retry-After.</summary>
    public int MaxQueue { get; init; } = 256;
    /// <summary>Triton's default for exclude_input_in_output when a request leaves it out.</summary>
    public bool ExcludeInputInOutput { get; init; }
    /// <summary>Largest request body accepted; larger ones get 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 4 * 1024 * 1024;
    /// <summary>
    /// What the system message says before the tools when a built-in chat format (no tool turns) gets them as text (TGI's
    /// --tool-prompt; a request's tool_prompt overrides it); null = ToolConversation.Instructions.
    /// </summary>
    public string? ToolPrompt { get; init; }
    /// <summary>
    /// How tool calls are read from an "auto" reply (vLLM's --tool-call-parser): Estuary's own constrained JSON (the default), or
    /// "hermes": the reply is left unconstrained and &lt;tool_call&gt;{"name", "arguments"}&lt;/tool_call&gt; blocks are read out of it.
    /// </summary>
    public ToolCallParser ToolCallParser { get; init; }
    /// <summary>
    /// How a chat reply's reasoning is read (vLLM's --reasoning-parser): none (the default), or deepseek_r1 / qwen3, which split
    /// &lt;think&gt;…&lt;/think&gt; off into the message's <c>reasoning</c> (and <c>reasoning_content</c>) and apply a structured
    /// output or a tool grammar only after it. Both tags must be tokens of the model's tokenizer.
    /// </summary>
    public ReasoningParser ReasoningParser { get; init; }
    /// <summary>
    /// How many finished /v1/responses responses are kept in memory for GET /v1/responses/{id} and previous_response_id
    /// (vLLM's --enable-responses-api-store); 0 (the default) keeps none.
    /// </summary>
    public int ResponsesStoreCapacity { get; init; }
    /// <summary>How long shutdown waits for in-flight requests before aborting them.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Problems with the settings, each naming the option.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Host)) errors.Add("host must not be empty");
        if (Port is < 0 or > 65535) errors.Add($"port must be in [0, 65535] (got {Port})");
        if (ApiKey is { Length: 0 }) errors.Add("api_key must not be empty when given");
        if (string.IsNullOrWhiteSpace(ServedModelName)) errors.Add("served_model_name must not be empty");
        if (MaxQueue < 0) errors.Add($"max_queue must be >= 0 (got {MaxQueue})");
        if (MaxRequestBodyBytes < 1024) errors.Add($"max_request_body must be at least 1024 bytes (got {MaxRequestBodyBytes})");
        if (ResponsesStoreCapacity < 0) errors.Add($"responses_store_capacity must be >= 0 (got {ResponsesStoreCapacity})");
        if (ShutdownTimeout < TimeSpan.Zero) errors.Add("shutdown_timeout must not be negative");
        return errors;
    }
}
