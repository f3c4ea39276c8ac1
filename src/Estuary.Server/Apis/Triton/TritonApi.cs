// The Triton Inference Server / TensorRT-LLM API: health, model metadata and readiness, and POST /v2/models/{model}/generate
// (whole) and /generate_stream (SSE deltas). "ensemble" is an alias of the served model. text_input is plain text encoded with
// the tokenizer (no chat format), as TRT-LLM's preprocessing model does. Invariant: only beam_width 1; errors are {"error": "…"}.
using System.Text;
using System.Text.Json;
using Estuary.Engine;
using Estuary.Server.Generation;
using Estuary.Server.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Estuary.Server.Apis.Triton;

internal static class TritonApi
{
    private const string Alias = "ensemble";
    private const string Version = "1";

    public static IEndpointRouteBuilder MapTritonApi(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/v2/health/live", HealthApi.Probe, () => TypedResults.Ok());
        app.MapMethods("/v2/health/ready", HealthApi.Probe, () => TypedResults.Ok());
        app.MapGet("/v2", () => TypedResults.Json(new TritonServerMetadata("estuary", ServerVersion.Value, ["generate"]), ApiJson.OmitNull));
        // Every model route also answers under /versions/{version}, as Triton's does; the one version is "1".
        app.MapMethods("/v2/models/{model}/ready", HealthApi.Probe, (string model, ServedModel served) => Ready(served, model, null));
        app.MapMethods("/v2/models/{model}/versions/{version}/ready", HealthApi.Probe, (string model, string version, ServedModel served) => Ready(served, model, version));
        app.MapGet("/v2/models/{model}", (string model, ServedModel served) => ModelMetadata(served, model, null));
        app.MapGet("/v2/models/{model}/versions/{version}", (string model, string version, ServedModel served) => ModelMetadata(served, model, version));
        app.MapPost("/v2/models/{model}/generate", (string model, HttpContext context, ServedModel served) => Generate(model, null, context, served, stream: false));
        app.MapPost("/v2/models/{model}/versions/{version}/generate", (string model, string version, HttpContext context, ServedModel served) =>
            Generate(model, version, context, served, stream: false));
        app.MapPost("/v2/models/{model}/generate_stream", (string model, HttpContext context, ServedModel served) => Generate(model, null, context, served, stream: true));
        app.MapPost("/v2/models/{model}/versions/{version}/generate_stream", (string model, string version, HttpContext context, ServedModel served) =>
            Generate(model, version, context, served, stream: true));
        return app;
    }

    private static IResult Ready(ServedModel served, string model, string? version)
    {
        Check(served, model, version);
        return TypedResults.Ok();
    }

    private static IResult ModelMetadata(ServedModel served, string model, string? version)
    {
        Check(served, model, version);
        return TypedResults.Json(Metadata(model), ApiJson.OmitNull);
    }

    // The path's model: the served model, its alias "ensemble", or a LoRA adapter's name (returned, null for the base model);
    // a version, when the path gives one, must be the only one there is.
    private static string? Check(ServedModel served, string model, string? version)
    {
        string? lora = ResolveModel(served, model);
        if (version is not null && version != Version)
            throw new RequestException(StatusCodes.Status404NotFound, $"Request for unknown model: '{model}' version {version} is not found", "model");
        return lora;
    }

    private static string? ResolveModel(ServedModel served, string model)
    {
        if (model == Alias || model == served.Name) return null;
        foreach (var adapter in served.Adapters)
            if (adapter == model) return adapter;
        throw new RequestException(StatusCodes.Status404NotFound, $"Request for unknown model: '{model}' is not found", "model");
    }

    private static async Task<IResult> Generate(string modelName, string? version, HttpContext context, ServedModel model, bool stream)
    {
        var lora = Check(model, modelName, version);
        var ct = context.RequestAborted;
        var r = await JsonBody.ReadAsync<TritonGenerateRequest>(context.Request, ct);
        if (r.TextInput is null) throw RequestException.BadRequest("'text_input' is required", "text_input");
        if (r.BeamWidth is { } beams && beams != 1)
            throw RequestException.BadRequest($"beam_width must be 1: beam search is not supported (got {beams})", "beam_width");
        var promptIds = model.Tokenizer.Encode(r.TextInput);
        var sampling = Sampling(model, r) with { LoraName = lora };
        bool exclude = r.ExcludeInputInOutput ?? context.RequestServices.GetRequiredService<ServerOptions>().ExcludeInputInOutput;
        using var admission = model.Admit(1, ct);
        var outputs = model.Start(promptIds, sampling, "text_input", admission.Token);
        bool logprobs = r.ReturnLogProbs == true;

        if (!stream && r.Stream != true)
        {
            var text = new StringBuilder(exclude ? "" : r.TextInput);
            var lps = logprobs ? new List<float>() : null;
            await foreach (var o in outputs)
            {
                text.Append(o.NewText);
                foreach (var s in o.NewLogprobs ?? []) lps?.Add(s.Logprob);
            }
            return TypedResults.Json(new TritonGenerateResponse(modelName, Version, text.ToString(), lps?.Sum(), lps), ApiJson.OmitNull);
        }

        var sse = new SseWriter(context.Response);
        float cumulative = 0;
        if (!exclude && r.TextInput.Length > 0)
            await sse.WriteAsync(new TritonGenerateResponse(modelName, Version, r.TextInput, null, null), ApiJson.OmitNull, ct);
        await foreach (var o in outputs)
        {
            if (o.NewText.Length == 0 && !logprobs) continue;
            List<float>? lps = null;
            if (logprobs)
            {
                lps = [.. (o.NewLogprobs ?? []).Select(s => s.Logprob)];
                cumulative += lps.Sum();
            }
            await sse.WriteAsync(new TritonGenerateResponse(modelName, Version, o.NewText, logprobs ? cumulative : null, lps), ApiJson.OmitNull, ct);
        }
        return TypedResults.Empty;
    }

    private static SamplingParams Sampling(ServedModel model, TritonGenerateRequest r)
    {
        // TRT-LLM's max_tokens is a cap, not a promise: it only fails when it could never fit; otherwise the context cuts it short.
        if (r.MaxTokens is { } max && max > model.MaxModelLen)
            throw RequestException.BadRequest($"max_tokens is {max} but the context length is {model.MaxModelLen}", "max_tokens");
        var p = model.Core.DefaultSamplingParams(r.MaxTokens);
        if (r.Temperature is { } t) p = p with { Temperature = t };
        if (r.TopK is { } k) p = p with { TopK = k };
        if (r.TopP is { } tp) p = p with { TopP = tp };
        if (r.RepetitionPenalty is { } rp) p = p with { RepetitionPenalty = rp };
        if (r.PresencePenalty is { } pp) p = p with { PresencePenalty = pp };
        if (r.FrequencyPenalty is { } fp) p = p with { FrequencyPenalty = fp };
        if (r.MinLength is { } ml) p = p with { MinTokens = ml };
        if (r.EndId is { } end)
        {
            if ((uint)end >= (uint)model.Core.ModelConfig.VocabSize)
                throw RequestException.BadRequest($"end_id {end} is outside the vocabulary [0, {model.Core.ModelConfig.VocabSize})", "end_id");
            p = p with { StopTokenIds = [end] };
        }
        p = p with
        {
            Seed = r.RandomSeed is { } seed ? unchecked((long)seed) : null,
            Stop = Words(r.StopWords, "stop_words"),
            BadWords = Words(r.BadWords, "bad_words"),
            Logprobs = r.ReturnLogProbs == true ? 0 : null,
        };
        if (Guide(r) is { } structured)
        {
            if (model.Core.ValidateStructuredOutput(structured) is { } problem) throw RequestException.BadRequest(problem, "guided_decoding_guide");
            p = p with { StructuredOutput = structured };
        }
        var errors = p.Validate();
        if (errors.Count > 0) throw RequestException.FromValidation(errors, "text_input");
        return p;
    }

    /// <summary>TensorRT-LLM's guided_decoding_guide_type and guide: json (any JSON value), json_schema, regex, ebnf_grammar (GBNF).</summary>
    private static StructuredOutput? Guide(TritonGenerateRequest r)
    {
        if (string.IsNullOrEmpty(r.GuidedDecodingGuideType)) return null;
        // Every type but "json" is its guide: without one there is nothing to hold the output to (an empty regex or schema text
        // is not what was meant, and an empty schema is not JSON).
        if (r.GuidedDecodingGuideType is "json_schema" or "regex" or "ebnf_grammar" && string.IsNullOrEmpty(r.GuidedDecodingGuide))
            throw RequestException.BadRequest($"'guided_decoding_guide' is required with guided_decoding_guide_type '{r.GuidedDecodingGuideType}'", "guided_decoding_guide");
        string guide = r.GuidedDecodingGuide ?? "";
        switch (r.GuidedDecodingGuideType)
        {
            case "json":
                return StructuredOutput.JsonSchema("{}");
            case "json_schema":
                try
                {
                    return StructuredOutput.JsonSchema(guide);
                }
                catch (ArgumentException e)
                {
                    throw RequestException.BadRequest($"guided_decoding_guide: {JsonBody.Describe(e.Message)}", "guided_decoding_guide");
                }
            case "regex":
                return StructuredOutput.Regex(guide);
            case "ebnf_grammar":
                return StructuredOutput.Grammar(guide);
            default:
                throw RequestException.BadRequest(
                    $"guided_decoding_guide_type '{r.GuidedDecodingGuideType}' is not supported; use json, json_schema, regex or ebnf_grammar", "guided_decoding_guide_type");
        }
    }

    /// <summary>"a,b" or ["a", "b"]; empty entries (the usual "" default) are dropped.</summary>
    private static List<string> Words(JsonElement? value, string field)
    {
        if (value is not { } v || v.ValueKind == JsonValueKind.Null) return [];
        IEnumerable<string> items;
        if (v.ValueKind == JsonValueKind.String) items = JsonText.Read(v, field).Split(',');
        else if (v.ValueKind == JsonValueKind.Array && v.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
            items = v.EnumerateArray().Select((e, i) => JsonText.Read(e, $"{field}[{i}]"));
        else throw RequestException.BadRequest($"'{field}' must be a comma-separated string or a list of strings", field);
        return [.. items.Where(s => s.Length > 0)];
    }

    private static TritonModelMetadata Metadata(string name) => new(name, [Version], Alias,
        [
            new("text_input", "BYTES", [-1]),
            new("max_tokens", "INT32", [-1]),
            new("bad_words", "BYTES", [-1], true),
            new("stop_words", "BYTES", [-1], true),
            new("end_id", "INT32", [1], true),
            new("pad_id", "INT32", [1], true),
            new("temperature", "FP32", [1], true),
            new("top_k", "INT32", [1], true),
            new("top_p", "FP32", [1], true),
            new("repetition_penalty", "FP32", [1], true),
            new("presence_penalty", "FP32", [1], true),
            new("frequency_penalty", "FP32", [1], true),
            new("min_length", "INT32", [1], true),
            new("random_seed", "UINT64", [1], true),
            new("beam_width", "INT32", [1], true),
            new("exclude_input_in_output", "BOOL", [1], true),
            new("return_log_probs", "BOOL", [1], true),
            new("stream", "BOOL", [1], true),
            new("guided_decoding_guide_type", "BYTES", [1], true),
            new("guided_decoding_guide", "BYTES", [1], true),
        ],
        [
            new("text_output", "BYTES", [-1]),
            new("cum_log_probs", "FP32", [-1]),
            new("output_log_probs", "FP32", [-1, -1]),
        ]);
}
