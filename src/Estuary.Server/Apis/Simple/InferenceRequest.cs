// Body of POST /inference: the conversation and, optionally, which served model answers.
using Estuary.Server.Apis.Shared;

namespace Estuary.Server.Apis.Simple;

internal sealed class InferenceRequest
{
    public List<ChatMessageDto?>? Messages { get; init; }
    public string? Model { get; init; }

    // Estuary extensions (the original Flask API has none): a length limit and ignore_eos, so benchmarks can fix output lengths.
    public int? MaxTokens { get; init; }
    public bool? IgnoreEos { get; init; }
}
