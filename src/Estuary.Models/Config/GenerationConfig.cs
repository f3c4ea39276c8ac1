// Sampling defaults and special ids from generation_config.json (absent file ⇒ greedy defaults).
using System.Text.Json.Nodes;

namespace Estuary.Models.Config;

/// <summary>Defaults from <c>generation_config.json</c>.</summary>
public sealed record GenerationConfig
{
    /// <summary>Whether sampling is on (false ⇒ greedy).</summary>
    public bool DoSample { get; init; }
    /// <summary>Temperature.</summary>
    public float Temperature { get; init; } = 1.0f;
    /// <summary>Top-k (0 = off).</summary>
    public int TopK { get; init; }
    /// <summary>Top-p.</summary>
    public float TopP { get; init; } = 1.0f;
    /// <summary>HF repetition penalty (1 = off).</summary>
    public float RepetitionPenalty { get; init; } = 1.0f;
    /// <summary>Default number of new tokens, if given.</summary>
    public int? MaxNewTokens { get; init; }
    /// <summary>Default total length (prompt + output), if given.</summary>
    public int? MaxLength { get; init; }
    /// <summary>EOS ids.</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    /// <summary>BOS id.</summary>
    public int? BosTokenId { get; init; }
    /// <summary>Baichuan2 chat user token.</summary>
    public int? UserTokenId { get; init; }
    /// <summary>Baichuan2 chat assistant token.</summary>
    public int? AssistantTokenId { get; init; }

    /// <summary>Reads <c>generation_config.json</c> from <paramref name="modelDir"/>, or returns greedy defaults if absent.</summary>
    public static GenerationConfig Load(string modelDir)
    {
        var path = Path.Combine(modelDir, "generation_config.json");
        if (!File.Exists(path)) return new GenerationConfig();
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException("not a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON ({e.Message})", e);
        }
        var r = new ConfigReader(json, path);
        return new GenerationConfig
        {
            DoSample = r.Bool("do_sample") ?? false,
            Temperature = (float)(r.Double("temperature") ?? 1.0),
            TopK = r.Int("top_k") ?? 0,
            TopP = (float)(r.Double("top_p") ?? 1.0),
            RepetitionPenalty = (float)(r.Double("repetition_penalty") ?? 1.0),
            MaxNewTokens = r.Int("max_new_tokens"),
            MaxLength = r.Int("max_length"),
            EosTokenIds = r.IntOrList("eos_token_id"),
            BosTokenId = r.Int("bos_token_id"),
            UserTokenId = r.Int("user_token_id"),
            AssistantTokenId = r.Int("assistant_token_id"),
        };
    }
}
