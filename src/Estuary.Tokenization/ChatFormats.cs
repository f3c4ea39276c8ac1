// Picks the chat format of a model folder from config.json / generation_config.json / tokenizer_config.json.
// Invariant: unknown override names and unusable configs fail with an exception naming the valid choice or file.
using System.Text.Json;

namespace Estuary.Tokenization;

/// <summary>Chooses and configures the chat format for a model folder.</summary>
public static class ChatFormats
{
    /// <summary>Names accepted by <see cref="ForModel"/>'s override.</summary>
    public static IReadOnlyList<string> Names { get; } = ["baichuan2", "llama2"];

    /// <summary>
    /// Returns the chat format of the model in <paramref name="modelDir"/>: config.json <c>model_type</c> "baichuan"
    /// gives <see cref="Baichuan2ChatFormat"/> (marker ids and max_new_tokens from generation_config.json, defaults
    /// 195/196/2048; length from config.json model_max_length, else max_position_embeddings, else tokenizer_config.json
    /// model_max_length); anything else gives <see cref="Llama2ChatFormat"/>.
    /// </summary>
    /// <param name="modelDir">The model folder.</param>
    /// <param name="tokenizer">The model's tokenizer.</param>
    /// <param name="overrideName">"baichuan2" or "llama2" to force a format; null to pick from config.json.</param>
    /// <exception cref="ArgumentException">overrideName is not one of <see cref="Names"/>.</exception>
    /// <exception cref="InvalidDataException">a config file is not valid JSON, or Baichuan2 finds no length limit.</exception>
    public static IChatFormat ForModel(string modelDir, TextTokenizer tokenizer, string? overrideName = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDir);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (overrideName is not null && !Names.Contains(overrideName))
            throw new ArgumentException($"unknown chat format '{overrideName}'; valid formats are {string.Join(", ", Names)}", nameof(overrideName));

        using var config = ReadJsonIfExists(Path.Combine(modelDir, "config.json"));
        var name = overrideName ?? (GetString(config, "model_type") == "baichuan" ? "baichuan2" : "llama2");
        if (name == "llama2") return new Llama2ChatFormat(tokenizer);

        using var generation = ReadJsonIfExists(Path.Combine(modelDir, "generation_config.json"));
        using var tokenizerConfig = ReadJsonIfExists(Path.Combine(modelDir, "tokenizer_config.json"));
        var maxLength = GetInt(config, "model_max_length") ?? GetInt(config, "max_position_embeddings") ?? GetInt(tokenizerConfig, "model_max_length")
            ?? throw new InvalidDataException($"'{modelDir}': no model_max_length or max_position_embeddings in config.json and no model_max_length in tokenizer_config.json");
        return new Baichuan2ChatFormat(
            tokenizer,
            maxLength,
            GetInt(generation, "user_token_id") ?? 195,
            GetInt(generation, "assistant_token_id") ?? 196,
            GetInt(generation, "max_new_tokens") ?? 2048);
    }

    private static JsonDocument? ReadJsonIfExists(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {e.Message}", e);
        }
    }

    private static string? GetString(JsonDocument? doc, string key) =>
        doc is not null && doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(key, out var v)
            && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int? GetInt(JsonDocument? doc, string key) =>
        doc is not null && doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(key, out var v)
            && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;
}
