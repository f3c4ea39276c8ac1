// The request and response bodies of the Triton / TensorRT-LLM generate API (the "ensemble" model's inputs and outputs).
// Invariant: plain data; words lists arrive as a comma-separated string or a list of strings and are split by TritonApi.
using System.Text.Json;

namespace Estuary.Server.Apis.Triton;

internal sealed class TritonGenerateRequest
{
    public string? TextInput { get; init; }
    public int? MaxTokens { get; init; }
    public JsonElement? BadWords { get; init; }
    public JsonElement? StopWords { get; init; }
    public int? EndId { get; init; }
    public int? PadId { get; init; }
    public float? Temperature { get; init; }
    public int? TopK { get; init; }
    public float? TopP { get; init; }
    public float? RepetitionPenalty { get; init; }
    public float? PresencePenalty { get; init; }
    public float? FrequencyPenalty { get; init; }
    public int? MinLength { get; init; }
    public ulong? RandomSeed { get; init; }
    public int? BeamWidth { get; init; }
    public bool? ExcludeInputInOutput { get; init; }
    public bool? ReturnLogProbs { get; init; }
    public bool? Stream { get; init; }
    /// <summary>TensorRT-LLM's guided decoding: "json", "json_schema" or "regex" (with the guide text).</summary>
    public string? GuidedDecodingGuideType { get; init; }
    public string? GuidedDecodingGuide { get; init; }
}

internal sealed record TritonGenerateResponse(string ModelName, string ModelVersion, string TextOutput, float? CumLogProbs, IReadOnlyList<float>? OutputLogProbs);

internal sealed record TritonTensor(string Name, string Datatype, IReadOnlyList<int> Shape, bool? Optional = null);

internal sealed record TritonModelMetadata(string Name, IReadOnlyList<string> Versions, string Platform, IReadOnlyList<TritonTensor> Inputs, IReadOnlyList<TritonTensor> Outputs);

internal sealed record TritonServerMetadata(string Name, string Version, IReadOnlyList<string> Extensions);
