// Turns an OpenAI request's fields into SamplingParams over the model's generation_config.json defaults, with 400s naming the field.
// Invariant: explicit max_tokens must fit the context with the prompt (vLLM's rule); absent, the engine caps it at the context.
using System.Text.Json;
using Estuary.Server.Http;
using Estuary.Engine;
using Estuary.Server.Generation;

namespace Estuary.Server.Apis.OpenAi;

internal static class OpenAiSampling
{
    public const int MaxChoices = 64;

    /// <summary>
    /// The request's sampling settings; <paramref name="tools"/> (a chat request's forced tool call) is its structured-output
    /// constraint, which then cannot be combined with another one.
    /// </summary>
    public static SamplingParams Build(ServedModel model, SamplingRequest r, int? maxTokens, int? logprobs, ToolPlan? tools = null)
    {
        RefuseUnsupported(r);
        var p = model.Core.DefaultSamplingParams(maxTokens);
        if (r.Temperature is { } t) p = p with { Temperature = t };
        if (r.TopP is { } tp) p = p with { TopP = tp };
        if (r.TopK is { } k) p = p with { TopK = k };
        if (r.MinP is { } mp) p = p with { MinP = mp };
        if (r.RepetitionPenalty is { } rp) p = p with { RepetitionPenalty = rp };
        if (r.PresencePenalty is { } pp) p = p with { PresencePenalty = pp };
        if (r.FrequencyPenalty is { } fp) p = p with { FrequencyPenalty = fp };
        if (r.MinTokens is { } mt) p = p with { MinTokens = mt };
        if (r.SkipSpecialTokens is { } skip) p = p with { SkipSpecialTokens = skip };
        p = p with
        {
            Seed = r.Seed,
            IgnoreEos = r.IgnoreEos ?? false,
            Stop = StringOrList(r.Stop, "stop"),
            StopTokenIds = r.StopTokenIds ?? [],
            Logprobs = logprobs,
            LogitBias = LogitBias(r.LogitBias),
            PromptLogprobs = r.PromptLogprobs,
            AllowedTokenIds = r.AllowedTokenIds,
            BadWords = StringOrList(r.BadWords, "bad_words"),
            Priority = r.Priority ?? 0,
        };
        var (structured, structuredField) = OpenAiStructuredOutput.Read(r);
        if (tools is not null)
        {
            // A JSON answer format goes with the tools: under "auto" the reply is calls or such an answer; calls otherwise.
            try
            {
                (structured, structuredField) = (tools.Constraint(structured), structured is null ? "tools" : structuredField);
            }
            catch (ArgumentException e)
            {
                // ToolCalls names what it refuses: the answer format, or the tools themselves ($defs that conflict).
                throw RequestException.BadRequest(e.Message.Split(" (Parameter", 2)[0], e.ParamName == "answerFormat" ? structuredField : "tools");
            }
        }
        if (structured is not null)
        {
            if (model.Core.ValidateStructuredOutput(structured) is { } problem) throw RequestException.BadRequest(problem, structuredField);
            p = p with { StructuredOutput = structured };
        }
        if (r.PromptLogprobs is not null && r.Stream == true)
            throw RequestException.BadRequest("prompt_logprobs is not available with stream", "prompt_logprobs");
        if (r.N is < 1 or > MaxChoices) throw RequestException.BadRequest($"n must be in [1, {MaxChoices}] (got {r.N})", "n");
        var errors = p.Validate(model.Core.MaxLogprobs);
        if (errors.Count > 0) throw RequestException.FromValidation(errors, "prompt");
        return p;
    }

    /// <summary>Fields that would change the output if honoured: asking for them is a 400, not a silently different answer.</summary>
    private static void RefuseUnsupported(SamplingRequest r)
    {
        static bool Given(JsonElement? e) => e is { } v && v.ValueKind switch
        {
            JsonValueKind.Null or JsonValueKind.Undefined => false,
            JsonValueKind.Object => v.EnumerateObject().Any(),
            JsonValueKind.Array => v.GetArrayLength() > 0,
            _ => true,
        };
        if (r.BestOf is { } bestOf && bestOf != (r.N ?? 1))
            throw RequestException.BadRequest($"'best_of' other than n is not supported (got best_of {bestOf}, n {r.N ?? 1})", "best_of");
        if (r is CompletionRequest && Given(r.Tools)) throw RequestException.BadRequest("'tools' (function calling) is only available on /v1/chat/completions", "tools");
        if (Given(r.Functions)) throw RequestException.BadRequest("'functions' (function calling) is not supported", "functions");
    }

    /// <summary>OpenAI's logit_bias: an object from token id (a string of digits) to a number in [-100, 100]; null or absent is none.
    /// The engine checks the range and the vocabulary.</summary>
    private static Dictionary<int, float> LogitBias(JsonElement? value)
    {
        var bias = new Dictionary<int, float>();
        if (value is not { } v || v.ValueKind == JsonValueKind.Null) return bias;
        if (v.ValueKind != JsonValueKind.Object)
            throw RequestException.BadRequest("'logit_bias' must be an object mapping token ids to numbers", "logit_bias");
        foreach (var entry in v.EnumerateObject())
        {
            if (!int.TryParse(entry.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id))
                throw RequestException.BadRequest($"'logit_bias' keys must be token ids (got '{entry.Name}')", "logit_bias");
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetDouble(out double b))
                throw RequestException.BadRequest($"'logit_bias' value for token {id} must be a number", "logit_bias");
            bias[id] = (float)b;
        }
        return bias;
    }

    /// <summary>vLLM's rule: an explicit max_tokens plus the prompt must fit in the context.</summary>
    public static void CheckContext(ServedModel model, int promptLength, int? maxTokens, string field)
    {
        if (maxTokens is { } m && promptLength < model.MaxModelLen && promptLength + m > model.MaxModelLen)
            throw RequestException.BadRequest(
                $"{field} is {m} but the prompt has {promptLength} tokens and the context length is {model.MaxModelLen}; " +
                $"at most {model.MaxModelLen - promptLength} tokens can be generated", field);
    }

    /// <summary>A stop field: absent/null, one string, or a list of strings.</summary>
    public static IReadOnlyList<string> StringOrList(JsonElement? value, string field)
    {
        if (value is not { } v || v.ValueKind == JsonValueKind.Null) return [];
        if (v.ValueKind == JsonValueKind.String) return [JsonText.Read(v, field)];
        if (v.ValueKind != JsonValueKind.Array) throw RequestException.BadRequest($"'{field}' must be a string or a list of strings", field);
        var list = new List<string>();
        foreach (var item in v.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) throw RequestException.BadRequest($"'{field}' must be a string or a list of strings", field);
            list.Add(JsonText.Read(item, $"{field}[{list.Count}]"));
        }
        return list;
    }

    /// <summary>Seeded choices get seed, seed+1, … so n choices differ yet each is reproducible.</summary>
    public static SamplingParams ForChoice(SamplingParams p, int choice) => p.Seed is { } s ? p with { Seed = s + choice } : p;
}
